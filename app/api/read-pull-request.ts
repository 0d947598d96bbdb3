import { httpStatusOf } from '../github/http-error.ts';
import type { GitHubClient } from '../github/reporter.ts';
import type { PullLike } from '../policy/pull-facts.ts';
import { ApiError } from './api-error.ts';

/**
 * A pull request of the repository a workflow token names, as the App's installation on that
 * repository reads it (`pulls.get`): the API judges what GitHub says, never what a request claims.
 */

/** GitHub as the App (its JWT) and as one of its installations, as Probot's `app.auth()` gives them. */
export interface AppGitHub {
  app(): Promise<GitHubClient>;
  installation(id: number): Promise<GitHubClient>;
}

export interface PullRequestRead {
  installationId: number;
  /** The installation's client, for what else is done about the pull request. */
  octokit: GitHubClient;
  pull: PullLike;
}

async function installationOf(github: AppGitHub, owner: string, name: string): Promise<number> {
  try {
    const { data } = await (await github.app()).rest.apps.getRepoInstallation({ owner, repo: name });
    return data.id;
  } catch (error) {
    if (httpStatusOf(error) !== 404) throw error;
    throw new ApiError(
      403,
      `the vcluster-preview GitHub App is not installed on ${owner}/${name}`,
      `install the App on ${owner}/${name} (its page on GitHub → Install, or Configure to add the repository), then run the workflow again`,
    );
  }
}

export async function readPullRequest(github: AppGitHub, repo: string, pr: number): Promise<PullRequestRead> {
  const [owner = '', name = ''] = repo.split('/');
  const installationId = await installationOf(github, owner, name);
  const octokit = await github.installation(installationId);
  try {
    const { data } = await octokit.rest.pulls.get({ owner, repo: name, pull_number: pr });
    return { installationId, octokit, pull: data as PullLike };
  } catch (error) {
    if (httpStatusOf(error) !== 404) throw error;
    throw new ApiError(
      404,
      `pull request #${pr} does not exist in ${owner}/${name}`,
      'pass the number of a pull request of the repository the workflow runs in (the Action reads it from the pull_request event)',
    );
  }
}
