import { annotations, type VirtualClusterInfo, type VirtualClusterProvider } from '../../preview/index.ts';
import { httpStatusOf } from '../github/http-error.ts';
import { type PreviewMetadata, readPreviewMetadata } from '../preview-metadata.ts';
import type { PreviewQueue } from '../queue/preview-queue.ts';
import type { Sweep, SweepContext } from '../queue/sweeper.ts';
import type { KeptPreviews } from './kept-previews.ts';
import { type PullRequestState, planSweep, type SweepAction, type SweepCandidate } from './plan-sweep.ts';
import { REQUESTS_SEEN_ANNOTATION, sawRequests, type TrafficSource } from './traffic-source.ts';

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
  /** Requests per host namespace (the ingress controller's metrics); without it, a visit does not count. */
  traffic?: TrafficSource;
  /** Merges annotations into a host namespace: where a visit is stamped as activity. Needed with `traffic`. */
  annotate?(namespace: string, values: Record<string, string>): Promise<void>;
  /** `/vcluster keep`: those are never paused or expired. */
  kept?: Pick<KeptPreviews, 'get'>;
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

  /**
   * A preview visited since the last sweep is active now: its lastActivity is stamped, with the
   * count seen, on its host namespace (where deploys stamp it too), so the next sweep compares
   * against it and a restart of this service loses nothing.
   */
  const noteVisits = async (
    previews: readonly { info: VirtualClusterInfo; metadata: PreviewMetadata }[],
    at: Date,
    context: SweepContext,
  ): Promise<Map<string, string>> => {
    const stamped = new Map<string, string>();
    if (!deps.traffic || !deps.annotate || previews.length === 0) return stamped;
    const counts = await deps.traffic(previews.map(({ info }) => info.namespace));
    if (!counts) return stamped;
    for (const { info, metadata } of previews) {
      const count = counts.get(info.namespace);
      if (!sawRequests(info.annotations[REQUESTS_SEEN_ANNOTATION], count)) continue;
      try {
        await deps.annotate(info.namespace, {
          [annotations.lastActivity]: at.toISOString(),
          [REQUESTS_SEEN_ANNOTATION]: String(count),
        });
        stamped.set(info.namespace, at.toISOString());
      } catch (error) {
        context.log.warn(
          { err: error, repo: metadata.repo, pr: metadata.pr },
          'could not stamp a visit on the host namespace; judged by its last stamp this time',
        );
      }
    }
    return stamped;
  };

  return async (context: SweepContext): Promise<SweepReport> => {
    const at = now();
    const previews: { info: VirtualClusterInfo; metadata: PreviewMetadata }[] = [];
    for (const info of await deps.provider.list()) {
      const metadata = readPreviewMetadata(info);
      // A virtual cluster made by hand, not a preview: never ours to sweep.
      if (metadata) previews.push({ info, metadata });
    }
    const visited = await noteVisits(previews, at, context);
    const candidates: SweepCandidate[] = [];
    for (const { info, metadata } of previews) {
      if (context.signal.aborted) break;
      const hasJob = (await deps.queue.place(metadata.repo, metadata.pr)).state !== 'none';
      const lastVisit = visited.get(info.namespace);
      candidates.push({
        ...metadata,
        ...(lastVisit ? { lastVisit } : {}),
        ...((await deps.kept?.get(metadata.repo, metadata.pr)) ? { kept: true } : {}),
        state: info.state,
        ...(info.createdAt ? { createdAt: info.createdAt } : {}),
        hasJob,
        // A pull request with a job is not the sweep's to judge: spare GitHub the question.
        pullRequest: hasJob ? 'unknown' : await pullRequestState(metadata, context),
      });
    }
    const enqueued: SweepAction[] = [];
    for (const action of planSweep(candidates, at)) {
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
