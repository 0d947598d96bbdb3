import type { PreviewHostAccess } from '../../preview/index.ts';
import {
  type CreateOptions,
  DEFAULT_URL_TEMPLATE,
  exposeApp,
  HostSecretError,
  hostLabel,
  labels,
  REPO_CONFIG_PATH,
  resetVirtualCluster,
  rollOutApp,
  STEPS,
  StepTracker,
  syncerSaw,
  type VirtualClusterProvider,
} from '../../preview/index.ts';
import type { DesiredState } from '../desired-state.ts';
import { BadConfigError } from '../errors/bad-config-error.ts';
import { type HostSecretAllowlist, planHostSecrets } from '../host-secrets/plan-host-secrets.ts';
import { previewAnnotations, previewHoldingHost, previewLabels } from '../preview-metadata.ts';
import type { PreviewSlots } from '../slots/preview-slots.ts';
import { asBadConfig, type ConfigSource, readApp } from './app-source.ts';
import { bringUpFailure } from './failure-report.ts';
import { statusPageEntryUrl, stickyCommentUrl } from './log-url.ts';
import { type PodSecurityPolicy, podSecurityLevel } from './pod-security-level.ts';
import { forQueue, type ReconcileRun, throwIfAborted } from './reconcile-run.ts';
import type { ReconcileOutcome } from './single-step.ts';

/**
 * `up`, `redeploy` and `reset` at a commit: read the config, make (or reset) the virtual cluster,
 * deploy and roll out, expose, each a step of the sticky comment, and the result as a GitHub
 * Deployment. A config only the author can fix fails at once and takes away what this run made.
 */

export interface BringUpDeps {
  provider: VirtualClusterProvider;
  host: PreviewHostAccess;
  baseDomain: string;
  helmBinary?: string;
  readyTimeoutMs: number;
  rolloutTimeoutMs: number;
  ingressClassName?: string;
  slots?: Pick<PreviewSlots, 'release'>;
  /** The service's `PUBLIC_URL`: a failure's "full log" is its status page entry there. */
  publicUrl?: string;
  /** Which host Secrets repositories may copy (PREVIEW_HOST_SECRETS), from which host namespace. */
  hostSecrets?: { allowlist: HostSecretAllowlist; namespace: string };
  /** The operator's Pod Security default and cap (default restricted, repositories down to baseline). */
  podSecurity?: PodSecurityPolicy;
}

const DEFAULT_POD_SECURITY: PodSecurityPolicy = { default: 'restricted', max: 'baseline' };

const hostTaken = (host: string, holder: string) =>
  new BadConfigError(
    `the preview host ${host} is already served by ${holder}`,
    `make urlTemplate in ${REPO_CONFIG_PATH} give a name of this pull request's own, as the default ${DEFAULT_URL_TEMPLATE} does`,
  );

type BringUp = Extract<DesiredState, { kind: 'up' | 'redeploy' | 'reset' }>;

export async function bringUp(
  deps: BringUpDeps,
  run: ReconcileRun,
  desired: BringUp,
  /** The config as the reconcile read it already; read here when left out. */
  source?: Promise<ConfigSource>,
): Promise<ReconcileOutcome> {
  const { job, log, ref, octokit, reporter } = run;
  const { sha } = desired;
  const connect = { name: ref.name, namespace: ref.namespace };
  const githubUrl = String(octokit.request.endpoint.DEFAULTS.baseUrl);
  let url: string | undefined;
  let commentId: number | undefined;
  let notes: string[] = [];
  const tracker = new StepTracker([STEPS.config, STEPS.cluster, STEPS.deploy, STEPS.expose], (steps) =>
    run.publish(
      { state: 'deploying', sha, steps, url, connect, notes },
      { desired: desired.kind, sha, steps },
    ),
  );
  const logUrl = () => stickyCommentUrl(githubUrl, job.repo, job.pr, commentId);
  let createdHere = false;
  let deploymentId: number | undefined;
  try {
    deploymentId = await reporter.startDeployment(sha);
    const { app, secrets, level } = await tracker.run(STEPS.config, async () => {
      const app = await readApp(
        {
          octokit,
          owner: run.owner,
          repo: run.repo,
          pr: job.pr,
          sha,
          baseDomain: deps.baseDomain,
          helmBinary: deps.helmBinary,
          variables: desired.variables,
        },
        source,
      );
      // Before anything is made: a Secret the operator did not allow fails the config, not a cluster.
      const secrets = planHostSecrets({
        secrets: app.config.secrets,
        repo: job.repo,
        isFork: app.isFork,
        allowlist: deps.hostSecrets?.allowlist ?? {},
      });
      return {
        app,
        secrets,
        level: podSecurityLevel(app.config.podSecurity, deps.podSecurity ?? DEFAULT_POD_SECURITY),
      };
    });
    if (secrets.withheld) {
      const { names, reason } = secrets.withheld;
      notes = [
        `host Secret${names.length > 1 ? 's' : ''} ${names.join(', ')} ${names.length > 1 ? 'were' : 'was'} withheld: ${reason}`,
      ];
    }
    log.info(
      { configRef: app.configRef, isFork: app.isFork, objects: app.objects.length, podSecurity: level },
      'read the config',
    );
    throwIfAborted(run.signal);

    const virtual = await tracker.run(STEPS.cluster, async () => {
      const existing = await deps.provider.get(ref);
      const holder = previewHoldingHost(await deps.provider.list(), app.host, ref.namespace);
      if (holder) {
        throw hostTaken(app.host, holder);
      }
      const options: CreateOptions = {
        ...ref,
        labels: {
          ...previewLabels(job.repo, job.pr, job.installationId),
          [labels.host]: hostLabel(app.host),
        },
        // The lifetimes go on the namespace so that the sweeper judges them without reading GitHub.
        annotations: previewAnnotations(job.repo, sha, new Date(), {
          ttl: app.config.ttl,
          sleepAfter: app.config.sleepAfter,
        }),
        allowedHostSuffix: app.host,
        // The syncer holds every pod to it before the pod reaches the host.
        isolation: { podSecurityStandard: level },
        report: (message) => log.info(message),
      };
      createdHere = !existing || desired.kind === 'reset';
      if (desired.kind === 'reset') await resetVirtualCluster(deps.provider, options);
      else await deps.provider.create(options);
      // Two previews made at once both passed the look above: the one made later yields.
      const rival = previewHoldingHost(await deps.provider.list(), app.host, ref.namespace);
      if (rival) {
        throw hostTaken(app.host, rival);
      }
      return deps.host.connect(deps.provider, ref, deps.readyTimeoutMs);
    });
    throwIfAborted(run.signal);

    await tracker.run(STEPS.deploy, async () => {
      if (secrets.copies.length > 0) {
        const copied = await deps.host
          .copySecrets(virtual, deps.hostSecrets?.namespace ?? 'default', secrets.copies)
          .catch((error: unknown) => {
            throw error instanceof HostSecretError
              ? new BadConfigError(error.message, `then push a commit or comment \`/vcluster redeploy\``)
              : error;
          });
        log.info({ secrets: copied }, 'copied host Secrets');
      }
      const result = await rollOutApp(virtual, app.objects, {
        commit: sha,
        timeoutMs: deps.rolloutTimeoutMs,
        report: (message) => log.info(message),
      });
      log.info({ applied: result.applied.length, pruned: result.pruned.length }, 'deployed the app');
    });
    throwIfAborted(run.signal);

    url = await tracker.run(STEPS.expose, () =>
      exposeApp(deps.host, ref, app, {
        ingressClassName: deps.ingressClassName,
        labels: previewLabels(job.repo, job.pr, job.installationId),
      }),
    );

    const ready = await run.report(
      { state: 'ready', sha, url, steps: tracker.snapshot(), connect, notes },
      { desired: desired.kind, sha, done: true, url },
    );
    commentId = ready.id;
    await reporter.finishDeployment(deploymentId, {
      state: 'success',
      environmentUrl: url ?? stickyCommentUrl(githubUrl, job.repo, job.pr, undefined),
      logUrl: logUrl(),
    });
    return { state: 'ready', url };
  } catch (caught) {
    const error = asBadConfig(caught);
    const bad = error instanceof BadConfigError;
    // Nothing retries this preview after a bad config or the last attempt.
    const givesUp = bad || run.lastAttempt;
    const step = tracker.failed;
    log.warn(
      { err: error, step, bad },
      bad
        ? 'the preview config is bad'
        : givesUp
          ? 'a step failed on the last attempt'
          : 'a step failed; the job retries',
    );
    // No half-made environment: a virtual cluster this job made for a config that cannot work goes.
    if (bad && createdHere) {
      await deps.provider
        .delete(ref)
        .catch((deleteError) => log.error({ err: deleteError }, 'could not delete the virtual cluster'));
    }
    // A preview that will not start gives back the slot it was let through with (the host cluster
    // still counts whatever it made).
    if (givesUp) {
      await deps.slots
        ?.release(job.repo, job.pr, job.installationId)
        .catch((releaseError) => log.warn({ err: releaseError }, 'could not free the preview slot'));
    }
    // A deploy that fails often fails in the host cluster (a pod refused, a name taken): the syncer saw it.
    const seen =
      step === STEPS.deploy
        ? await syncerSaw(deps.provider, ref, (readError) =>
            log.warn({ err: readError }, 'could not read the syncer log'),
          )
        : '';
    try {
      const failed = await run.report(
        {
          state: 'failed',
          sha,
          steps: tracker.snapshot(),
          notes,
          ...(bad && createdHere ? {} : { connect }),
          error: {
            ...bringUpFailure({
              step,
              error,
              lastAttempt: run.lastAttempt,
              ...(run.attempt !== undefined ? { attempt: run.attempt } : {}),
              syncerSaw: seen,
            }),
            ...(deps.publicUrl ? { logUrl: statusPageEntryUrl(deps.publicUrl, job.repo, job.pr) } : {}),
          },
        },
        { desired: desired.kind, sha, failed: step ?? null, retrying: !givesUp },
      );
      commentId = failed.id;
      if (deploymentId !== undefined) {
        await reporter.finishDeployment(deploymentId, {
          state: 'failure',
          logUrl: logUrl(),
          description: bad
            ? 'The preview config is invalid'
            : `${step ?? 'A step'} failed${givesUp ? '' : '; retrying'}`,
        });
      }
    } catch (reportError) {
      log.warn({ err: reportError }, 'could not report the failure to GitHub');
    }
    throw forQueue(error);
  }
}
