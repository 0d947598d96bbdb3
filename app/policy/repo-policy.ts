import type { Logger } from 'pino';
import { parseRepoConfig, REPO_CONFIG_PATH } from '../../preview/index.ts';
import type { PreviewPolicy } from '../desired-state.ts';
import { readRepoFile } from '../github/repo-files.ts';
import type { GitHubClient } from '../github/reporter.ts';

/** The policy when the repo has no config file (or one the worker will report as broken). */
export const DEFAULT_POLICY: PreviewPolicy = { drafts: false, labels: [], forks: 'approve' };

export type ReadConfig = (
  octokit: GitHubClient,
  owner: string,
  repo: string,
  ref: string,
  log: Logger,
) => Promise<PreviewPolicy>;

/** Reads and parses the repo config at `ref`; a missing or broken file gives the default policy. */
export const readRepoPolicy: ReadConfig = async (octokit, owner, repo, ref, log) => {
  const text = await readRepoFile(octokit, { owner, repo, ref }, REPO_CONFIG_PATH);
  if (text === undefined) return DEFAULT_POLICY;
  try {
    const config = parseRepoConfig(text);
    return {
      drafts: config.drafts,
      labels: config.labels,
      forks: config.forks,
      ...(config.waitFor ? { waitFor: config.waitFor.checks } : {}),
    };
  } catch (error) {
    // The worker reads the file again and reports the error on the pull request.
    log.warn({ ref, err: error }, `${REPO_CONFIG_PATH} is not valid; using the default policy`);
    return DEFAULT_POLICY;
  }
};
