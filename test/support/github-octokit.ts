import type { Logger } from 'pino';
import { ProbotOctokit } from 'probot';
import { type GitHubRetryLimits, withGitHubRetries } from '../../app/github/octokit.ts';
import type { GitHubClient } from '../../app/github/reporter.ts';

export interface TokenOctokitOptions {
  baseUrl: string;
  token: string;
  log?: Logger;
  limits?: Partial<GitHubRetryLimits>;
}

/** The service's Octokit (its retry and throttling bounds) for a test's plain token. */
export function tokenOctokit(options: TokenOctokitOptions): GitHubClient {
  const Octokit = withGitHubRetries(ProbotOctokit, options.limits);
  return new Octokit({
    baseUrl: options.baseUrl,
    auth: { token: options.token },
    ...(options.log ? { log: options.log } : {}),
  }) as unknown as GitHubClient;
}
