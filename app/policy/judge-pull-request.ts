import type { Logger } from 'pino';
import type { Command } from '../commands.ts';
import { type DesiredState, desiredStateFor, type PreviewPolicy } from '../desired-state.ts';
import type { GitHubClient } from '../github/reporter.ts';
import type { ApprovalStore } from './approvals.ts';
import { configRef, type PullFacts } from './pull-facts.ts';
import type { ReadConfig } from './repo-policy.ts';

/**
 * The one place where a request about a pull request (a webhook, a `/vcluster` comment, a call of
 * the service API) meets the repo's policy: drafts, labels and fork approval decide its desired state.
 */

export interface PolicyDeps {
  readConfig: ReadConfig;
  approvals: ApprovalStore;
  /** This GitHub App's id: its own sticky comments are told from anyone else's by it. */
  appId?: number;
}

/** What happened, without the pull request's facts (those come from `facts`). */
export type PullRequestRequest =
  | { type: 'pull_request'; action: string; merged: boolean; label?: string }
  | {
      type: 'command';
      command: Command;
      /** When the comment was written (`comment.created_at`); API calls have none. */
      commentedAt?: string;
    };

/** Which pull request, and GitHub as its repository's installation. */
export interface PullTarget {
  octokit: GitHubClient;
  owner: string;
  name: string;
  /** `owner/name`. */
  repo: string;
  pr: number;
  log: Logger;
}

export interface JudgeInput extends PullTarget {
  facts: PullFacts;
  request: PullRequestRequest;
  /** Used instead of reading the repo config (a closed pull request: nothing the file says matters). */
  policy?: PreviewPolicy;
}

export async function judgePullRequest(deps: PolicyDeps, input: JudgeInput): Promise<DesiredState> {
  const { facts, request } = input;
  const config =
    input.policy ??
    (await deps.readConfig(input.octokit, input.owner, input.name, configRef(facts), input.log));
  const approvedSha = facts.isFork ? await deps.approvals.get(input.repo, input.pr) : undefined;
  if (request.type === 'pull_request') {
    return desiredStateFor({ ...request, ...facts }, { config, ...(approvedSha ? { approvedSha } : {}) });
  }
  // An approval is of the head as it was when the maintainer commented: a head never seen is taken
  // as pushed just now.
  const headSeenAt =
    request.command.kind === 'approve' && request.commentedAt
      ? ((await deps.approvals.headSeenAt(input.repo, input.pr, facts.headSha)) ?? new Date().toISOString())
      : undefined;
  return desiredStateFor(
    { ...request, ...facts, ...(headSeenAt ? { headSeenAt } : {}) },
    { config, ...(approvedSha ? { approvedSha } : {}) },
  );
}
