import { type Command, permissionAllows, requiredPermission } from '../commands.ts';
import { permissionOf } from '../github/permissions.ts';
import type { GitHubClient } from '../github/reporter.ts';
import type { ActionsClaims } from './actions-claims.ts';
import { ApiError } from './api-error.ts';

/**
 * Who may act through the API: a `pull_request` run of the repository itself, whose actor has the
 * permission the matching comment command needs. `pull_request_target`, `issue_comment` and
 * `workflow_run` runs carry the base branch's workflow with a pull request's input (its code, its
 * comment), so their tokens are refused whatever they ask.
 */

/** The only workflow event whose runs may ask. */
export const ALLOWED_EVENT = 'pull_request';

/** A 403 unless the token is of a `pull_request` run (pure). */
export function checkWorkflowEvent(claims: ActionsClaims): void {
  if (claims.eventName === ALLOWED_EVENT) return;
  throw new ApiError(
    403,
    `the token is of a ${claims.eventName ?? 'unnamed'} workflow run; only pull_request runs may ask for previews`,
    'run the Action in a workflow `on: pull_request` (pull_request_target, issue_comment and workflow_run runs act on input the pull request controls)',
  );
}

/** A 403 unless the run's actor has the permission `command` needs on the repository. */
export async function checkActorPermission(
  octokit: GitHubClient,
  repo: string,
  claims: ActionsClaims,
  command: Command,
): Promise<void> {
  const needed = requiredPermission(command);
  if (needed === 'none') return;
  const [owner = '', name = ''] = repo.split('/');
  const actor = claims.actor;
  const level = actor ? await permissionOf(octokit, owner, name, actor) : 'none';
  if (permissionAllows(level, needed)) return;
  throw new ApiError(
    403,
    `${actor ?? 'the run’s actor'} has ${level} permission on ${repo}; this needs ${needed}`,
    'the same people may act through the API as through `/vcluster` comments: ask a maintainer to run the workflow again',
  );
}
