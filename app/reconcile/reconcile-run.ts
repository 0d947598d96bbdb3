import type { JobProgress } from 'bullmq';
import type { Logger } from 'pino';
import { previewName } from '../desired-state.ts';
import { RateLimitedError } from '../errors/rate-limited-error.ts';
import {
  createGitHubReporter,
  type GitHubClient,
  GitHubReportError,
  type GitHubReporter,
} from '../github/reporter.ts';
import type { PreviewJob } from '../queue/preview-job.ts';
import type { ReconcileContext } from '../queue/preview-worker.ts';
import type { StickyCommentState } from '../sticky-comment.ts';
import type { KeptPreviews } from '../sweep/kept-previews.ts';
import { LatestWins } from './latest-wins.ts';

/**
 * What every part of one reconcile run shares: the job and its preview, GitHub access for its pull
 * request, and the two ways its picture reaches the sticky comment and the job's progress.
 */

/**
 * What reconcile needs of the worker's context; `attempt` makes the "retrying" note precise, and
 * `attemptsLeft` 0 makes a failure final (no "retrying", the preview slot given back).
 */
export type ReconcileJobContext = Pick<ReconcileContext, 'log' | 'progress' | 'signal'> &
  Partial<Pick<ReconcileContext, 'attempt' | 'attemptsLeft' | 'jobId'>>;

export interface ReconcileRun {
  job: PreviewJob;
  owner: string;
  repo: string;
  /** The preview's virtual cluster and host namespace. */
  ref: { name: string; namespace: string };
  log: Logger;
  signal: AbortSignal;
  /** The attempt this run is (1 for the first), when the worker says. */
  attempt?: number;
  /** No retry follows a failure of this run: the worker's last attempt. */
  lastAttempt: boolean;
  octokit: GitHubClient;
  reporter: GitHubReporter;
  /** A step's progress: edited in the background (newest state wins) so the work never waits on GitHub. */
  publish(state: StickyCommentState, progress: JobProgress): Promise<void>;
  /** The outcome of a run: written after any progress edit, and awaited. */
  report(state: StickyCommentState, progress: JobProgress): Promise<{ id: number }>;
}

export async function startRun(
  job: PreviewJob,
  ctx: ReconcileJobContext,
  github: {
    githubFor(installationId?: number): Promise<GitHubClient>;
    appId?: number;
    kept?: Pick<KeptPreviews, 'get'>;
  },
): Promise<ReconcileRun> {
  const [owner = '', repo = ''] = job.repo.split('/');
  const log = ctx.log;
  const octokit = await github.githubFor(job.installationId);
  const reporter = createGitHubReporter({
    octokit,
    owner,
    repo,
    pullNumber: job.pr,
    log,
    ...(github.appId !== undefined ? { appId: github.appId } : {}),
  });
  // Read once per run: a keep is shown from the next update of the comment on.
  const kept = await github.kept?.get(job.repo, job.pr).catch((error: unknown) => {
    log.warn({ err: error }, 'could not read whether the preview is kept; the comment leaves it out');
    return undefined;
  });
  const comment = new LatestWins({
    write: (state: StickyCommentState) =>
      reporter.upsertStickyComment({
        ...state,
        ...(kept ? { keptBy: kept.by } : {}),
        updatedAt: new Date().toISOString(),
      }),
    onError: (error) =>
      log.warn({ err: error }, 'could not update the sticky comment; the next update tries again'),
  });
  return {
    job,
    owner,
    repo,
    ref: previewName(job.repo, job.pr),
    log,
    signal: ctx.signal,
    ...(ctx.attempt !== undefined ? { attempt: ctx.attempt } : {}),
    lastAttempt: ctx.attemptsLeft === 0,
    octokit,
    reporter,
    async publish(state, progress) {
      comment.offer(state);
      await ctx.progress(progress);
    },
    async report(state, progress) {
      const result = await comment.settle(state);
      // The last progress keeps the step checklist and the error (message and hint): the API's final
      // status, the Action's job summary and the status page show them.
      const picture = {
        ...(state.steps ? { steps: state.steps } : {}),
        ...(state.error ? { error: { message: state.error.message, hint: state.error.hint } } : {}),
      };
      await ctx.progress(typeof progress === 'object' ? { ...progress, ...picture } : progress);
      return result;
    },
  };
}

/** A GitHub rate limit longer than the reporter waits becomes a delay of the job, not a failed attempt. */
export const forQueue = (error: unknown): unknown =>
  error instanceof GitHubReportError && error.retryAfterMs !== undefined
    ? new RateLimitedError(error.retryAfterMs, error.message, { cause: error })
    : error;

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted)
    throw new Error('the job was taken from this worker (its lock expired); another run converges it');
}
