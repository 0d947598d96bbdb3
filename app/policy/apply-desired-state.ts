import type { DesiredState } from '../desired-state.ts';
import { createGitHubReporter } from '../github/reporter.ts';
import type { EnqueueResult, PreviewQueue } from '../queue/preview-queue.ts';
import type { PullTarget } from './judge-pull-request.ts';

/**
 * Acts on a desired state, whoever asked (webhook or service API): nothing for a skip, the sticky
 * comment for a fork commit that waits for approval, one job on the queue otherwise.
 */

export interface ApplyTarget extends PullTarget {
  desired: DesiredState;
  /** GitHub login of whoever asked. */
  sender: string;
  installationId?: number;
  /** The webhook delivery or API request, to follow it through the logs. */
  deliveryId: string;
  /** This GitHub App's id (see GitHubReporterOptions.appId). */
  appId?: number;
}

/** The job that carries `desired`, or undefined when nothing was enqueued. */
export async function applyDesiredState(
  queue: PreviewQueue,
  target: ApplyTarget,
): Promise<EnqueueResult | undefined> {
  const { owner, name, repo, pr, desired, sender, log } = target;
  if (desired.kind === 'skip') {
    log.info({ reason: desired.reason }, 'no preview change');
    return undefined;
  }
  if (desired.kind === 'await-approval') {
    log.info({ sha: desired.sha }, 'fork pull request waits for a maintainer to approve');
    const reporter = createGitHubReporter({
      octokit: target.octokit,
      owner,
      repo: name,
      pullNumber: pr,
      log,
      ...(target.appId !== undefined ? { appId: target.appId } : {}),
    });
    await reporter.upsertStickyComment({
      state: 'waiting-approval',
      sha: desired.sha,
      updatedAt: new Date().toISOString(),
    });
    return undefined;
  }
  const result = await queue.enqueue({
    repo,
    pr,
    desired,
    ...(target.installationId ? { installationId: target.installationId } : {}),
    requestedBy: sender,
    deliveryId: target.deliveryId,
  });
  // The names of the workflow's variables, not their values: those are a pull request's, and long.
  const { variables, ...logged } = desired as DesiredState & { variables?: Record<string, string> };
  log.info(
    {
      desired: variables ? { ...logged, variables: Object.keys(variables) } : logged,
      jobId: result.jobId,
      outcome: result.outcome,
    },
    'preview job enqueued',
  );
  return result;
}
