import type { VirtualClusterProvider } from '../../preview/provider.ts';
import { httpStatusOf } from '../github/http-error.ts';
import { readPreviewMetadata } from '../preview-metadata.ts';
import type { PreviewQueue } from '../queue/preview-queue.ts';
import type { Sweep, SweepContext } from '../queue/sweeper.ts';
import { type PullRequestState, planSweep, type SweepAction, type SweepCandidate } from './plan-sweep.ts';

/** What the sweep needs of an Octokit: one GET. Probot's and `@octokit/rest`'s both fit. */
export interface PullRequestReader {
  request(
    route: 'GET /repos/{owner}/{repo}/pulls/{pull_number}',
    parameters: { owner: string; repo: string; pull_number: number },
  ): Promise<{ data: { state: string } }>;
}

export interface SweepDeps {
  provider: Pick<VirtualClusterProvider, 'list'>;
  /** An Octokit for the installation (Probot's `app.auth(id)`). */
  githubFor(installationId: number): Promise<PullRequestReader>;
  queue: Pick<PreviewQueue, 'place' | 'enqueueIfIdle'>;
  now?: () => Date;
}

export interface SweepReport {
  /** Previews looked at (virtual clusters that serve a pull request). */
  previews: number;
  /** What was enqueued; an action whose pull request got a job meanwhile is left out. */
  enqueued: SweepAction[];
}

/**
 * The sweeper's body: reads which previews exist from the host cluster, asks GitHub about each one's
 * pull request and the queue about its jobs, and enqueues what `planSweep` decides as a desired state.
 * It never deletes anything itself: the worker's per-pull-request serialisation and reporting apply.
 */
export function createSweep(deps: SweepDeps): Sweep {
  const now = deps.now ?? (() => new Date());

  const pullRequestState = async (
    candidate: { repo: string; pr: number; installationId?: number },
    context: SweepContext,
  ): Promise<PullRequestState> => {
    // Without an installation on record nobody can be asked: closed or orphaned stays undecided.
    if (candidate.installationId === undefined) return 'unknown';
    const [owner = '', repo = ''] = candidate.repo.split('/');
    try {
      const octokit = await deps.githubFor(candidate.installationId);
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
        owner,
        repo,
        pull_number: candidate.pr,
      });
      return data.state === 'closed' ? 'closed' : 'open';
    } catch (error) {
      // 404: the pull request, its repository or the App's installation is gone.
      if (httpStatusOf(error) === 404) return 'not-found';
      context.log.warn(
        { err: error, repo: candidate.repo, pr: candidate.pr },
        'could not read the pull request; only its lifetimes are judged this time',
      );
      return 'unknown';
    }
  };

  return async (context: SweepContext): Promise<SweepReport> => {
    const candidates: SweepCandidate[] = [];
    for (const info of await deps.provider.list()) {
      if (context.signal.aborted) break;
      const metadata = readPreviewMetadata(info);
      if (!metadata) continue; // a virtual cluster made by hand, not a preview: never ours to sweep
      const hasJob = (await deps.queue.place(metadata.repo, metadata.pr)).state !== 'none';
      candidates.push({
        ...metadata,
        state: info.state,
        ...(info.createdAt ? { createdAt: info.createdAt } : {}),
        hasJob,
        // A pull request with a job is not the sweep's to judge: spare GitHub the question.
        pullRequest: hasJob ? 'unknown' : await pullRequestState(metadata, context),
      });
    }
    const enqueued: SweepAction[] = [];
    for (const action of planSweep(candidates, now())) {
      if (context.signal.aborted) break;
      const jobId = await deps.queue.enqueueIfIdle({
        repo: action.repo,
        pr: action.pr,
        desired: action.desired,
        reason: action.reason,
        ...(action.installationId !== undefined ? { installationId: action.installationId } : {}),
      });
      const log = context.log.child({ repo: action.repo, pr: action.pr });
      if (jobId) {
        enqueued.push(action);
        log.info({ desired: action.desired.kind, reason: action.reason.text, jobId }, 'sweep enqueued');
      } else {
        log.info({ desired: action.desired.kind }, 'a job arrived meanwhile; the sweep leaves it');
      }
    }
    context.log.info({ previews: candidates.length, enqueued: enqueued.length }, 'sweep done');
    return { previews: candidates.length, enqueued };
  };
}
