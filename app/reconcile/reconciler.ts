import type { PreviewUrlStyle, WakerAddress } from '../../preview/index.ts';
import {
  annotations,
  previewHostAccess,
  previewWakeAccess,
  STEPS,
  type VirtualClusterProvider,
} from '../../preview/index.ts';
import { previewName } from '../desired-state.ts';
import type { GitHubClient } from '../github/reporter.ts';
import type { HostSecretAllowlist } from '../host-secrets/plan-host-secrets.ts';
import { previewAnnotations } from '../preview-metadata.ts';
import type { PreviewJob } from '../queue/preview-job.ts';
import { needsSlot } from '../slots/preview-cap.ts';
import type { PreviewSlots } from '../slots/preview-slots.ts';
import type { KeptPreviews } from '../sweep/kept-previews.ts';
import { type ConfigSource, readConfigSource } from './app-source.ts';
import { bringUp } from './bring-up.ts';
import { claimSlot } from './claim-slot.ts';
import type { PodSecurityPolicy } from './pod-security-level.ts';
import { type ReconcileJobContext, startRun } from './reconcile-run.ts';
import { type ReconcileOutcome, runSingleStep } from './single-step.ts';
import { type WaitForChecksDeps, waitForChecks } from './wait-for-checks.ts';

/**
 * The worker's reconcile: brings one pull request's preview to the job's desired state, reporting
 * each step in the sticky comment and the result as a GitHub Deployment. Every step is idempotent
 * (create returns what exists, apply is server-side, the inventory prunes), so a retry converges.
 */

export type { ReconcileJobContext } from './reconcile-run.ts';
export type { ReconcileOutcome } from './single-step.ts';

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
  /** Which host Secrets repositories may copy (PREVIEW_HOST_SECRETS), from which host namespace; none without it. */
  hostSecrets?: { allowlist: HostSecretAllowlist; namespace: string };
  /** The cap of live previews (MAX_PREVIEWS…); without it, previews start without limit. */
  slots?: Pick<PreviewSlots, 'claim' | 'release'>;
  /** The service's `PUBLIC_URL`, where its status page is: a failure links to the preview's entry. */
  publicUrl?: string;
  /**
   * When a commit was first seen as a pull request's head (epoch ms), shared by the service's
   * processes (Redis); `waitFor.timeout` runs from it. Default: the first time this process saw it.
   */
  headFirstSeen?: WaitForChecksDeps['headFirstSeen'];
  /** How soon a job waiting for CI checks looks again (default 15 s). */
  checksPollMs?: number;
  /** The Pod Security default and cap (`PREVIEW_POD_SECURITY`, `_MAX`; default restricted, down to baseline). */
  podSecurity?: PodSecurityPolicy;
  /** `/vcluster keep`: the sticky comment says when a preview is kept from sleep and ttl. */
  kept?: Pick<KeptPreviews, 'get'>;
  /**
   * Where the host's ingress controller reaches the service's waker (PREVIEW_WAKER_ADDRESS): a paused
   * preview's URL is sent there, so that its first request wakes it. Without it, a paused URL fails.
   */
  wakerAddress?: WakerAddress;
}

/** Per process: a fallback for reconcilers made without a shared store (tests, the CLI). */
function localFirstSeen(): WaitForChecksDeps['headFirstSeen'] {
  const seen = new Map<string, { sha: string; at: number }>();
  return async (repo, pr, sha) => {
    const key = `${repo}#${pr}`;
    const noted = seen.get(key);
    if (noted?.sha === sha) return noted.at;
    if (seen.size >= 10_000) seen.clear();
    const at = Date.now();
    seen.set(key, { sha, at });
    return at;
  };
}

const NO_PREVIEW_HINT = 'Push a commit or comment `/vcluster redeploy` to create one.';

export function createReconciler(deps: ReconcilerDeps) {
  const { provider, slots } = deps;
  const host = previewHostAccess(deps.hostKubeconfig, deps.urlStyle);
  const wake = previewWakeAccess(deps.hostKubeconfig);
  const bringUpDeps = {
    provider,
    host,
    baseDomain: deps.baseDomain,
    readyTimeoutMs: deps.readyTimeoutMs ?? 120_000,
    rolloutTimeoutMs: deps.rolloutTimeoutMs ?? 300_000,
    ...(deps.helmBinary ? { helmBinary: deps.helmBinary } : {}),
    ...(deps.ingressClassName ? { ingressClassName: deps.ingressClassName } : {}),
    ...(slots ? { slots } : {}),
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
    ...(deps.hostSecrets ? { hostSecrets: deps.hostSecrets } : {}),
    ...(deps.podSecurity ? { podSecurity: deps.podSecurity } : {}),
  };
  const checksDeps: WaitForChecksDeps = {
    headFirstSeen: deps.headFirstSeen ?? localFirstSeen(),
    pollMs: deps.checksPollMs ?? 15_000,
  };

  return async function reconcile(job: PreviewJob, ctx: ReconcileJobContext): Promise<ReconcileOutcome> {
    const { desired } = job;
    const log = ctx.log;
    if (desired.kind === 'skip') {
      log.info({ reason: desired.reason }, 'nothing to do');
      return { state: 'skipped' };
    }
    if (desired.kind === 'down' && job.reason?.kind === 'orphaned') {
      // The sweeper found no pull request (or installation) left: nobody to tell, and a comment that
      // cannot be written must not keep the preview alive.
      await provider.delete(previewName(job.repo, job.pr));
      await slots?.release(job.repo, job.pr, job.installationId);
      log.info({ reason: job.reason.text }, 'deleted an orphaned preview');
      return { state: 'destroyed' };
    }
    const run = await startRun(job, ctx, deps);
    const { ref } = run;
    const connect = { name: ref.name, namespace: ref.namespace };
    let source: Promise<ConfigSource> | undefined;
    if (desired.kind === 'up' || desired.kind === 'redeploy' || desired.kind === 'reset') {
      // Read once, before a slot is taken: waitFor may hold the commit back, and the bring-up renders
      // from the same reading (its config step reports a file that cannot be read).
      source = readConfigSource({
        octokit: run.octokit,
        owner: run.owner,
        repo: run.repo,
        pr: job.pr,
        sha: desired.sha,
      });
      const stop = await waitForChecks(run, desired.sha, source, checksDeps);
      if (stop) return stop;
    }
    if (slots && needsSlot(desired.kind)) await claimSlot(run, provider, slots);
    const why = job.reason ? { reason: job.reason.text } : {};

    switch (desired.kind) {
      case 'await-approval':
        await run.report(
          { state: 'waiting-approval', sha: desired.sha },
          { desired: desired.kind, sha: desired.sha },
        );
        return { state: 'waiting-approval' };
      case 'down':
        return runSingleStep(run, 'destroy', STEPS.delete, { state: 'deploying' }, async () => {
          await provider.delete(ref);
          await slots?.release(job.repo, job.pr, job.installationId);
          await run.reporter.deactivateDeployments();
          return { state: 'destroyed', ...why };
        });
      case 'pause':
        return runSingleStep(run, 'pause', STEPS.pause, { state: 'deploying', connect }, async () => {
          if (!(await provider.get(ref)))
            return {
              state: 'failed',
              error: { message: 'There is no preview to pause.', hint: NO_PREVIEW_HINT },
            };
          const url = await host.currentUrl(ref.namespace);
          // The URL goes to the waker first: a visit while the app stops is held, not failed.
          if (deps.wakerAddress) await wake.sleep(ref.namespace, deps.wakerAddress);
          await provider.pause(ref);
          return { state: 'paused', url, connect, ...why };
        });
      case 'resume':
        return runSingleStep(run, 'resume', STEPS.resume, { state: 'deploying', connect }, async () => {
          if (!(await provider.get(ref)))
            return {
              state: 'failed',
              error: { message: 'There is no preview to resume.', hint: NO_PREVIEW_HINT },
            };
          const info = await provider.resume(ref);
          // The URL goes back to the app once it serves (also when this service has no waker address now).
          await wake.wake(ref.namespace);
          const sha = info.annotations[annotations.commit];
          if (sha) await host.annotate(ref.namespace, previewAnnotations(job.repo, sha));
          return { state: 'ready', url: await host.currentUrl(ref.namespace), sha, connect, ...why };
        });
      case 'up':
      case 'redeploy':
      case 'reset':
        return bringUp(bringUpDeps, run, desired, source);
    }
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
