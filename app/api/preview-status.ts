import type { VirtualClusterState } from '../../preview/index.ts';
import type { DesiredState } from '../desired-state.ts';
import type { QueuePlace } from '../queue/preview-queue.ts';
import type { PreviewState, StickyStep } from '../sticky-comment.ts';

/**
 * Where a pull request's preview stands, for `GET /api/v1/previews/{owner}/{repo}/{pr}`: worked out
 * from what exists (the job in the queue and the host namespace's marks), never stored on its own.
 * Pure, so every combination is tested without servers.
 */

/**
 * The sticky comment's states, plus `retrying` (a step failed and the queue tries again: not over)
 * and `none` (no preview and nothing queued). `ready`, `failed`, `paused`, `destroyed`, `none` and
 * `waiting-approval` are final until someone asks for something else.
 */
export type ApiPreviewState = PreviewState | 'retrying' | 'none';

export const FINAL_STATES: readonly ApiPreviewState[] = [
  'ready',
  'failed',
  'paused',
  'destroyed',
  'none',
  'waiting-approval',
];

export interface PreviewStatus {
  state: ApiPreviewState;
  url?: string;
  sha?: string;
  /** The preview's host namespace, once it has one. */
  namespace?: string;
  /** 1-based place among the waiting jobs (or in the line for a preview slot). */
  queuePosition?: number;
  /** The job this status is about. */
  jobId?: string;
  desired?: DesiredState['kind'];
  /** The step checklist of a running or finished job. */
  steps?: StickyStep[];
  error?: string;
  hint?: string;
}

/** BullMQ's job states, and `missing` for a job that is gone (removed after a while, or replaced). */
export type JobState =
  | 'waiting'
  | 'prioritized'
  | 'waiting-children'
  | 'delayed'
  | 'active'
  | 'completed'
  | 'failed'
  | 'missing';

export interface JobFacts {
  id: string;
  state: JobState;
  desired?: DesiredState;
  /** What the reconcile reported (`{ steps, waitingAt, … }`). */
  progress?: unknown;
  /** What the reconcile returned (`{ state, url }`). */
  returnValue?: unknown;
  failedReason?: string;
}

export interface ClusterFacts {
  namespace: string;
  state: VirtualClusterState;
  sha?: string;
  url?: string;
}

export interface StatusFacts {
  /** The job the caller asked about (`?job=`), or the one the queue holds for the pull request. */
  job?: JobFacts;
  place: QueuePlace;
  /** The preview on the host cluster; undefined when there is none. */
  cluster?: ClusterFacts;
}

const FAILED_HINT =
  'the sticky comment on the pull request shows the failed step; fix the cause and push, or comment `/vcluster reset` to start over';
const RETRY_HINT =
  'vcluster-preview retries this automatically; the sticky comment on the pull request shows each try';

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

const stepsOf = (progress: unknown): StickyStep[] | undefined => {
  const steps = record(progress).steps;
  return Array.isArray(steps) ? (steps as StickyStep[]) : undefined;
};

const positive = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;

/** The preview as the host cluster shows it, for when no job says more. */
function fromCluster(cluster: ClusterFacts | undefined): PreviewStatus {
  if (!cluster) return { state: 'none' };
  switch (cluster.state) {
    case 'running':
      return { state: 'ready' };
    case 'paused':
      return { state: 'paused' };
    case 'creating':
      return { state: 'deploying' };
    case 'failed':
      return {
        state: 'failed',
        error: `the virtual cluster in ${cluster.namespace} has failed`,
        hint: 'comment `/vcluster reset` on the pull request (or run the Action with action: reset) to make a new one',
      };
  }
}

/** What the queue says while the job has not finished; undefined for a finished or missing job. */
function fromQueue(job: JobFacts | undefined, place: QueuePlace): PreviewStatus | undefined {
  const progress = record(job?.progress);
  const state: JobState | undefined =
    job?.state ?? (place.state === 'none' ? undefined : place.state === 'waiting' ? 'waiting' : place.state);
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return {
        state: 'queued',
        ...(place.state === 'waiting' && (!job || place.jobId === job.id)
          ? { queuePosition: place.position }
          : {}),
      };
    case 'active':
      return { state: 'deploying' };
    case 'delayed': {
      // Put back while waiting for a preview slot (the cap): queued, at its place in that line.
      const waitingAt = positive(progress.waitingAt);
      if (waitingAt !== undefined) return { state: 'queued', queuePosition: waitingAt };
      return {
        state: 'retrying',
        ...(job?.failedReason ? { error: job.failedReason } : {}),
        hint: RETRY_HINT,
      };
    }
    default:
      return undefined;
  }
}

/** What a finished job says, or undefined when it does not say (an older job, a skip). */
function fromFinished(job: JobFacts): PreviewStatus | undefined {
  if (job.state === 'failed') {
    return {
      state: 'failed',
      error: job.failedReason ?? 'the preview job failed',
      hint: FAILED_HINT,
    };
  }
  if (job.state !== 'completed') return undefined;
  const outcome = record(job.returnValue).state;
  switch (outcome) {
    case 'ready':
    case 'paused':
    case 'destroyed':
    case 'waiting-approval':
      return { state: outcome };
    case 'failed':
      // The reconcile finished without retrying: nothing to pause or resume, a bad config…
      return { state: 'failed', error: 'the preview job finished as failed', hint: FAILED_HINT };
    default:
      return undefined;
  }
}

export function previewStatus(facts: StatusFacts): PreviewStatus {
  const { job, place, cluster } = facts;
  // A job that is gone (kept finished jobs expire; a newer request replaced a waiting one) says
  // nothing; the queue's current job for the pull request, if any, does.
  const known = job && job.state !== 'missing' ? job : undefined;
  const base =
    fromQueue(known, known ? { state: 'none' } : place) ??
    (known ? fromFinished(known) : undefined) ??
    fromCluster(cluster);
  // A waiting job's place comes from the queue even when the caller named the job.
  const queued =
    known && base.state === 'queued' && place.state === 'waiting' && place.jobId === known.id
      ? { queuePosition: place.position }
      : {};
  const steps = stepsOf(known?.progress);
  const progressSha = record(known?.progress).sha;
  const desiredSha = known?.desired && 'sha' in known.desired ? known.desired.sha : undefined;
  const jobSha = (typeof progressSha === 'string' ? progressSha : undefined) ?? desiredSha;
  // While a job works, the commit it brings matters; once it is over, the one the host has.
  const working = base.state === 'queued' || base.state === 'deploying' || base.state === 'retrying';
  const sha = working ? (jobSha ?? cluster?.sha) : (cluster?.sha ?? jobSha);
  const returnedUrl = record(known?.returnValue).url;
  const url = cluster?.url ?? (typeof returnedUrl === 'string' ? returnedUrl : undefined);
  const gone = base.state === 'destroyed' || base.state === 'none';
  return {
    ...base,
    ...queued,
    ...(url && !gone ? { url } : {}),
    ...(sha && !gone ? { sha } : {}),
    ...(cluster && !gone ? { namespace: cluster.namespace } : {}),
    ...(job ? { jobId: job.id } : place.state !== 'none' ? { jobId: place.jobId } : {}),
    ...(known?.desired ? { desired: known.desired.kind } : {}),
    ...(steps ? { steps } : {}),
  };
}
