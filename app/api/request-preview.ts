import type { Logger } from 'pino';
import type { Command } from '../commands.ts';
import type { DesiredState } from '../desired-state.ts';
import { applyDesiredState } from '../policy/apply-desired-state.ts';
import { judgePullRequest, type PolicyDeps } from '../policy/judge-pull-request.ts';
import { factsOf } from '../policy/pull-facts.ts';
import type { EnqueueOutcome, PreviewQueue } from '../queue/preview-queue.ts';
import type { ActionsClaims } from './actions-claims.ts';
import { ApiError } from './api-error.ts';
import type { ApiAction, PreviewRequest } from './preview-request.ts';
import { type AppGitHub, readPullRequest } from './read-pull-request.ts';
import { checkActorPermission, checkWorkflowEvent } from './workflow-run.ts';

/**
 * `POST /api/v1/previews`: a workflow asks for a desired state of one of its repository's pull
 * requests. It goes the webhooks' way (judgePullRequest, then applyDesiredState): the same policy
 * (drafts, labels, fork approval) and the same queue.
 */

export interface RequestPreviewDeps {
  queue: PreviewQueue;
  policy: PolicyDeps;
  github: AppGitHub;
}

export interface RequestPreviewInput {
  claims: ActionsClaims;
  request: PreviewRequest;
  /** Follows the request through the logs and the job (its `deliveryId`). */
  requestId: string;
  log: Logger;
}

export interface PreviewRequested {
  repo: string;
  pr: number;
  desired: DesiredState;
  /** The job carrying `desired`; none for a skip or a fork commit awaiting approval. */
  jobId?: string;
  outcome?: EnqueueOutcome;
}

/**
 * The `/vcluster` command that means the same. `up` is judged as `redeploy` (the same gates at the
 * head commit, and a closed pull request is refused) and reported as `up` again.
 */
const COMMAND_OF: Record<ApiAction, Command> = {
  up: { kind: 'redeploy', args: [] },
  redeploy: { kind: 'redeploy', args: [] },
  reset: { kind: 'reset', args: [] },
  down: { kind: 'destroy', args: [] },
  pause: { kind: 'pause', args: [] },
  resume: { kind: 'resume', args: [] },
};

export async function requestPreview(
  deps: RequestPreviewDeps,
  input: RequestPreviewInput,
): Promise<PreviewRequested> {
  const { claims, request } = input;
  // The repository is the token's, never the body's: a workflow can only ask for its own previews.
  const repo = claims.repository;
  const [owner = '', name = ''] = repo.split('/');
  const pr = request.pullRequest;
  const log = input.log.child({ repo, pr, action: request.action });
  checkWorkflowEvent(claims);
  const { installationId, octokit, pull } = await readPullRequest(deps.github, repo, pr);
  const facts = factsOf(pull);
  // A given commit must be the head: a run of an older push may not deploy what the pull request left behind.
  if (request.sha && request.sha !== facts.headSha.toLowerCase()) {
    throw new ApiError(
      409,
      `${request.sha.slice(0, 7)} is not the head of ${repo}#${pr} (${facts.headSha.slice(0, 7)}): the pull request moved on`,
      "nothing was changed; the newest push's run asks for its own commit (or leave sha out for the head)",
    );
  }
  await checkActorPermission(octokit, repo, claims, COMMAND_OF[request.action]);
  const target = { octokit, owner, name, repo, pr, log };
  const judged = await judgePullRequest(deps.policy, {
    ...target,
    facts,
    request: { type: 'command', command: COMMAND_OF[request.action] },
  });
  const atSha: DesiredState =
    request.action === 'up' && judged.kind === 'redeploy' ? { kind: 'up', sha: judged.sha } : judged;
  // The workflow's values go with a deploy only (a fork awaiting approval deploys later, with the defaults).
  const desired: DesiredState =
    request.variables &&
    Object.keys(request.variables).length > 0 &&
    (atSha.kind === 'up' || atSha.kind === 'redeploy' || atSha.kind === 'reset')
      ? { ...atSha, variables: request.variables }
      : atSha;
  const enqueued = await applyDesiredState(deps.queue, {
    ...target,
    desired,
    sender: claims.actor ?? 'github-actions',
    installationId,
    deliveryId: input.requestId,
    ...(deps.policy.appId !== undefined ? { appId: deps.policy.appId } : {}),
  });
  return {
    repo,
    pr,
    desired,
    ...(enqueued ? { jobId: enqueued.jobId, outcome: enqueued.outcome } : {}),
  };
}
