import type { JobProgress } from 'bullmq';
import type { Logger } from 'pino';
import {
  deployApp,
  type PreviewUrlStyle,
  readInventory,
  waitForRollout,
} from '../../preview/deploy/index.ts';
import { previewHostAccess } from '../../preview/host-access.ts';
import { resetVirtualCluster } from '../../preview/lifecycle.ts';
import {
  annotations,
  type CreateOptions,
  labels,
  type VirtualClusterProvider,
  type VirtualClusterRef,
} from '../../preview/provider.ts';
import { DEFAULT_URL_TEMPLATE, REPO_CONFIG_PATH } from '../../preview/repo-config.ts';
import { summarizeSyncerLog } from '../../preview/syncer-log.ts';
import type { CommandName } from '../commands.ts';
import { previewName } from '../desired-state.ts';
import { createGitHubReporter, type GitHubClient, GitHubReportError } from '../github-reporter.ts';
import { BadConfigError } from '../queue/bad-config-error.ts';
import { needsSlot } from '../queue/preview-cap.ts';
import type { PreviewJob } from '../queue/preview-job.ts';
import type { PreviewSlots } from '../queue/preview-slots.ts';
import type { ReconcileContext } from '../queue/preview-worker.ts';
import { RateLimitedError } from '../queue/rate-limited-error.ts';
import { WaitingForSlotError } from '../queue/waiting-for-slot-error.ts';
import type { StickyCommentState } from '../sticky-comment.ts';
import { type AppSource, asBadConfig, readApp } from './app-source.ts';
import { LatestWins } from './latest-wins.ts';
import { stickyCommentUrl } from './log-url.ts';
import { hostLabel, previewAnnotations, previewHoldingHost, previewLabels } from './preview-metadata.ts';
import { StepTracker } from './step-tracker.ts';

/**
 * The worker's reconcile: brings one pull request's preview to the job's desired state, reporting
 * each step in the sticky comment and the result as a GitHub Deployment. Every step is idempotent
 * (create returns what exists, apply is server-side, the inventory prunes), so a retry converges.
 */

export interface ReconcilerDeps {
  provider: VirtualClusterProvider;
  /** Admin kubeconfig (YAML) of the host cluster, where the preview's Ingress goes. */
  hostKubeconfig: string;
  /** An Octokit for the installation (Probot's `app.auth(id)`, or `@octokit/rest` in tests). */
  githubFor(installationId?: number): Promise<GitHubClient>;
  /** Preview host names end in it: `pr-12-shop.<baseDomain>`. */
  baseDomain: string;
  /** Needed for configs with `helm:`. */
  helmBinary?: string;
  /** How long a new virtual cluster may take to serve its API (default 120 s). */
  readyTimeoutMs?: number;
  /** How long the app may take to roll out (default 5 min). */
  rolloutTimeoutMs?: number;
  /** Scheme and port of preview URLs (default `https` on its default port). */
  urlStyle?: PreviewUrlStyle;
  /** Class of the host Ingress (default: the cluster's default class). */
  ingressClassName?: string;
  /** This GitHub App's id: its own sticky comment is told from a planted one by it. */
  appId?: number;
  /** The cap of live previews (MAX_PREVIEWS…); without it, previews start without limit. */
  slots?: Pick<PreviewSlots, 'claim' | 'release'>;
}

/**
 * What reconcile needs of the worker's context; `attempt` makes the "retrying" note precise, and
 * `attemptsLeft` 0 makes a failure final (no "retrying", the preview slot given back).
 */
export type ReconcileJobContext = Pick<ReconcileContext, 'log' | 'progress' | 'signal'> &
  Partial<Pick<ReconcileContext, 'attempt' | 'attemptsLeft' | 'jobId'>>;

export interface ReconcileOutcome {
  state: StickyCommentState['state'] | 'skipped';
  url?: string;
}

export const STEPS = {
  config: 'Read config',
  cluster: 'Virtual cluster',
  deploy: 'Deploy',
  expose: 'Expose',
  delete: 'Delete virtual cluster',
  pause: 'Pause virtual cluster',
  resume: 'Resume virtual cluster',
} as const;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted)
    throw new Error('the job was taken from this worker (its lock expired); another run converges it');
}

/** A GitHub rate limit longer than the reporter waits becomes a delay of the job, not a failed attempt. */
const forQueue = (error: unknown): unknown =>
  error instanceof GitHubReportError && error.retryAfterMs !== undefined
    ? new RateLimitedError(error.retryAfterMs, error.message, { cause: error })
    : error;

/** The last lines the syncer logged, as a paragraph of the failure message; empty when none can be read. */
async function syncerSaw(
  provider: VirtualClusterProvider,
  ref: VirtualClusterRef,
  log: Logger,
): Promise<string> {
  try {
    const lines = summarizeSyncerLog(await provider.syncerLog(ref, 400), 15);
    return lines.length > 0 ? `\n\nWhat the syncer saw last:\n${lines.join('\n')}` : '';
  } catch (error) {
    log.warn({ err: error }, 'could not read the syncer log');
    return '';
  }
}

export function createReconciler(deps: ReconcilerDeps) {
  const host = previewHostAccess(deps.hostKubeconfig, deps.urlStyle);
  const readyTimeoutMs = deps.readyTimeoutMs ?? 120_000;
  const rolloutTimeoutMs = deps.rolloutTimeoutMs ?? 300_000;

  return async function reconcile(job: PreviewJob, ctx: ReconcileJobContext): Promise<ReconcileOutcome> {
    const { desired } = job;
    const [owner = '', repo = ''] = job.repo.split('/');
    const ref = previewName(job.repo, job.pr);
    const log = ctx.log;
    if (desired.kind === 'skip') {
      log.info({ reason: desired.reason }, 'nothing to do');
      return { state: 'skipped' };
    }
    if (desired.kind === 'down' && job.reason?.kind === 'orphaned') {
      // The sweeper found no pull request (or installation) left: nobody to tell, and a comment that
      // cannot be written must not keep the preview alive.
      await deps.provider.delete(ref);
      await deps.slots?.release(job.repo, job.pr, job.installationId);
      log.info({ reason: job.reason.text }, 'deleted an orphaned preview');
      return { state: 'destroyed' };
    }
    const octokit = await deps.githubFor(job.installationId);
    const reporter = createGitHubReporter({
      octokit,
      owner,
      repo,
      pullNumber: job.pr,
      log,
      ...(deps.appId !== undefined ? { appId: deps.appId } : {}),
    });
    const connectInfo = { name: ref.name, namespace: ref.namespace };
    const stamp = () => new Date().toISOString();

    const comment = new LatestWins({
      write: (state: StickyCommentState) => reporter.upsertStickyComment({ ...state, updatedAt: stamp() }),
      onError: (error) =>
        log.warn({ err: error }, 'could not update the sticky comment; the next update tries again'),
    });
    /** A step's progress: edited in the background (newest state wins) so the work never waits on GitHub. */
    const publish = async (state: StickyCommentState, progress: JobProgress) => {
      comment.offer(state);
      await ctx.progress(progress);
    };
    /** The outcome of a run: written after any progress edit, and awaited. */
    const report = async (state: StickyCommentState, progress: JobProgress) => {
      const result = await comment.settle(state);
      await ctx.progress(progress);
      return result;
    };

    /** No retry follows a failure of this run: the worker's last attempt. */
    const lastAttempt = ctx.attemptsLeft === 0;
    /** What the comment says after a failure on the last attempt. */
    const noAttemptsLeft = (command: CommandName) =>
      `No attempts left: comment \`/vcluster ${command}\` to try again.`;

    /** A short job with one step (down, pause, resume): the step in the comment, then the result. */
    const single = async (
      command: CommandName,
      step: string,
      running: Omit<StickyCommentState, 'steps'>,
      work: () => Promise<Omit<StickyCommentState, 'steps'>>,
    ): Promise<ReconcileOutcome> => {
      const tracker = new StepTracker([step], (steps) =>
        publish({ ...running, steps }, { desired: desired.kind, steps }),
      );
      try {
        const final = await tracker.run(step, work);
        // The last progress keeps the steps: the API's status (and the Action's summary) shows their times.
        await report(
          { ...final, steps: tracker.snapshot() },
          { desired: desired.kind, done: true, steps: tracker.snapshot() },
        );
        return { state: final.state, url: final.url };
      } catch (error) {
        await report(
          {
            state: 'failed',
            steps: tracker.snapshot(),
            error: {
              message: `${step} failed: ${messageOf(error)}`,
              hint: lastAttempt
                ? noAttemptsLeft(command)
                : 'vcluster-preview is retrying this automatically.',
            },
          },
          { desired: desired.kind, failed: step, steps: tracker.snapshot() },
        ).catch((reportError) => log.warn({ err: reportError }, 'could not report the failure'));
        throw forQueue(error);
      }
    };

    if (deps.slots && needsSlot(desired.kind)) {
      const existing = await deps.provider.get(ref);
      try {
        await deps.slots.claim({
          repo: job.repo,
          pr: job.pr,
          ...(job.installationId !== undefined ? { installationId: job.installationId } : {}),
          desired: desired.kind,
          hasLivePreview: existing !== undefined && existing.state !== 'paused',
        });
      } catch (error) {
        // Told once per place: the job asks again every ~30 s, and the comment need not change with it.
        if (error instanceof WaitingForSlotError && error.placeChanged) {
          await report(
            {
              state: 'queued',
              queuePosition: error.place,
              reason: error.reason,
              ...('sha' in desired ? { sha: desired.sha } : {}),
            },
            { desired: desired.kind, waitingAt: error.place },
          ).catch((reportError) => log.warn({ err: reportError }, 'could not report the place in line'));
        }
        throw error;
      }
    }
    const why = job.reason ? { reason: job.reason.text } : {};

    switch (desired.kind) {
      case 'await-approval': {
        await report(
          { state: 'waiting-approval', sha: desired.sha },
          { desired: desired.kind, sha: desired.sha },
        );
        return { state: 'waiting-approval' };
      }
      case 'down':
        return single('destroy', STEPS.delete, { state: 'deploying' }, async () => {
          await deps.provider.delete(ref);
          await deps.slots?.release(job.repo, job.pr, job.installationId);
          await reporter.deactivateDeployments();
          return { state: 'destroyed', ...why };
        });
      case 'pause':
        return single('pause', STEPS.pause, { state: 'deploying', connect: connectInfo }, async () => {
          if (!(await deps.provider.get(ref))) {
            return {
              state: 'failed',
              error: {
                message: 'There is no preview to pause.',
                hint: 'Push a commit or comment `/vcluster redeploy` to create one.',
              },
            };
          }
          const url = await host.currentUrl(ref.namespace);
          await deps.provider.pause(ref);
          return { state: 'paused', url, connect: connectInfo, ...why };
        });
      case 'resume':
        return single('resume', STEPS.resume, { state: 'deploying', connect: connectInfo }, async () => {
          if (!(await deps.provider.get(ref))) {
            return {
              state: 'failed',
              error: {
                message: 'There is no preview to resume.',
                hint: 'Push a commit or comment `/vcluster redeploy` to create one.',
              },
            };
          }
          const info = await deps.provider.resume(ref);
          const sha = info.annotations[annotations.commit];
          if (sha) await host.annotate(ref.namespace, previewAnnotations(job.repo, sha));
          return {
            state: 'ready',
            url: await host.currentUrl(ref.namespace),
            sha,
            connect: connectInfo,
          };
        });
      case 'up':
      case 'redeploy':
      case 'reset':
        break;
    }

    // up / redeploy / reset at a commit.
    const sha = desired.sha;
    let url: string | undefined;
    let commentId: number | undefined;
    const tracker = new StepTracker([STEPS.config, STEPS.cluster, STEPS.deploy, STEPS.expose], (steps) =>
      publish(
        { state: 'deploying', sha, steps, url, connect: connectInfo },
        { desired: desired.kind, sha, steps },
      ),
    );
    const logUrl = () =>
      stickyCommentUrl(String(octokit.request.endpoint.DEFAULTS.baseUrl), job.repo, job.pr, commentId);
    let createdHere = false;
    let deploymentId: number | undefined;
    try {
      deploymentId = await reporter.startDeployment(sha);
      const app: AppSource = await tracker.run(STEPS.config, () =>
        readApp({
          octokit,
          owner,
          repo,
          pr: job.pr,
          sha,
          baseDomain: deps.baseDomain,
          helmBinary: deps.helmBinary,
        }),
      );
      log.info(
        { configRef: app.configRef, isFork: app.isFork, objects: app.objects.length },
        'read the config',
      );
      throwIfAborted(ctx.signal);

      const virtual = await tracker.run(STEPS.cluster, async () => {
        const existing = await deps.provider.get(ref);
        const holder = previewHoldingHost(await deps.provider.list(), app.host, job);
        if (holder) {
          throw new BadConfigError(
            `the preview host ${app.host} is already served by the preview of ${holder.repo}#${holder.pr}`,
            `make urlTemplate in ${REPO_CONFIG_PATH} give a name of this pull request's own, as the default ${DEFAULT_URL_TEMPLATE} does`,
          );
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
          report: (message) => log.info(message),
        };
        createdHere = !existing || desired.kind === 'reset';
        if (desired.kind === 'reset') await resetVirtualCluster(deps.provider, options);
        else await deps.provider.create(options);
        return host.connect(deps.provider, ref, readyTimeoutMs);
      });
      throwIfAborted(ctx.signal);

      await tracker.run(STEPS.deploy, async () => {
        const previous = await readInventory(virtual);
        const result = await deployApp({
          virtual,
          objects: app.objects,
          previous,
          commit: sha,
          report: (message) => log.info(message),
        });
        log.info({ applied: result.applied.length, pruned: result.pruned.length }, 'deployed the app');
        await waitForRollout(virtual, app.objects, {
          timeoutMs: rolloutTimeoutMs,
          report: (message) => log.info(message),
        });
      });
      throwIfAborted(ctx.signal);

      url = await tracker.run(STEPS.expose, async () => {
        const expose = app.config.expose;
        if (!expose) {
          // Nothing to serve: an Ingress left from an earlier config goes.
          await host.unexpose(ref.namespace);
          return undefined;
        }
        return host.expose({
          hostNamespace: ref.namespace,
          vclusterName: ref.name,
          service: expose.service,
          port: expose.port,
          path: expose.path,
          previewHost: app.host,
          ingressClassName: deps.ingressClassName,
          labels: previewLabels(job.repo, job.pr, job.installationId),
        });
      });

      const ready = await report(
        { state: 'ready', sha, url, steps: tracker.snapshot(), connect: connectInfo },
        { desired: desired.kind, sha, done: true, url, steps: tracker.snapshot() },
      );
      commentId = ready.id;
      await reporter.finishDeployment(deploymentId, {
        state: 'success',
        environmentUrl:
          url ??
          stickyCommentUrl(String(octokit.request.endpoint.DEFAULTS.baseUrl), job.repo, job.pr, undefined),
        logUrl: logUrl(),
      });
      return { state: 'ready', url };
    } catch (caught) {
      const error = asBadConfig(caught);
      const bad = error instanceof BadConfigError;
      // Nothing retries this preview after a bad config or the last attempt.
      const givesUp = bad || lastAttempt;
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
      const hint = bad
        ? error.hint
          ? `${error.hint.charAt(0).toUpperCase()}${error.hint.slice(1)}.`
          : undefined
        : lastAttempt
          ? `${noAttemptsLeft('redeploy')} \`/vcluster reset\` starts again from an empty virtual cluster.`
          : `vcluster-preview retries this automatically${ctx.attempt ? ` (attempt ${ctx.attempt} failed)` : ''}; if it keeps failing, comment \`/vcluster reset\`.`;
      // A deploy that fails often fails in the host cluster (a pod refused, a name taken): the syncer saw it.
      const seen = step === STEPS.deploy ? await syncerSaw(deps.provider, ref, log) : '';
      const message = `${step ?? 'Preparing'} failed${givesUp ? '' : ' (retrying)'}:\n${bad && error.hint ? error.message.slice(0, -` (${error.hint})`.length) : messageOf(error)}${seen}`;
      try {
        const failed = await report(
          {
            state: 'failed',
            sha,
            steps: tracker.snapshot(),
            ...(bad && createdHere ? {} : { connect: connectInfo }),
            error: { message, hint },
          },
          { desired: desired.kind, sha, failed: step ?? null, retrying: !givesUp, steps: tracker.snapshot() },
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
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
