import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUTHOR_FIX_HINTS,
  authorFix,
  checkKustomization,
  fileBudget,
  type PreviewApp,
  REPO_CONFIG_PATH,
  renderPreviewApp,
} from '../../preview/index.ts';
import { BadConfigError } from '../errors/bad-config-error.ts';
import { downloadPath, readRepoFile } from '../github/repo-files.ts';
import type { GitHubClient } from '../github/reporter.ts';
import { factsOf, type PullLike } from '../policy/pull-facts.ts';

/**
 * What to deploy for one commit of a pull request: the repo config and the rendered objects.
 *
 * Where the config comes from: the pull request is read through the API; when its head repository
 * is another than its base (a fork), the config is read from the base branch (`base.ref`), never
 * from the fork, so a fork cannot change what is deployed or how (forks, urlTemplate, helm values).
 * The manifests are read at the commit being deployed (a maintainer approved that commit).
 */

export interface AppSource extends PreviewApp {
  /** Where the config was read: the commit, or the base branch for a fork. */
  configRef: string;
  isFork: boolean;
}

export interface ReadAppOptions {
  octokit: GitHubClient;
  owner: string;
  repo: string;
  pr: number;
  sha: string;
  baseDomain: string;
  helmBinary?: string;
  /** What the workflow set for `${{ variables.NAME }}`. */
  variables?: Record<string, string> | undefined;
}

/** Turns what only the pull request's author can fix into a BadConfigError; anything else goes through. */
export function asBadConfig(error: unknown): unknown {
  if (error instanceof BadConfigError) return error;
  const fix = authorFix(error);
  return fix
    ? new BadConfigError((error as Error).message, `${AUTHOR_FIX_HINTS[fix]} and push a commit`)
    : error;
}

/** The config file's text and where it was read: the commit, or the base branch for a fork. */
export interface ConfigSource {
  text: string;
  configRef: string;
  isFork: boolean;
}

/** Reads the repo config for this commit of the pull request (a fork's from its base branch). */
export async function readConfigSource(
  options: Pick<ReadAppOptions, 'octokit' | 'owner' | 'repo' | 'pr' | 'sha'>,
): Promise<ConfigSource> {
  const { octokit, owner, repo, pr, sha } = options;
  const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: pr });
  // One reading of "fork" with the policy's: a deleted fork (no head repository) is still one.
  const facts = factsOf(pull as PullLike);
  const isFork = facts.isFork;
  const configRef = isFork ? facts.baseRef : sha;

  const text = await readRepoFile(octokit, { owner, repo, ref: configRef }, REPO_CONFIG_PATH);
  if (text === undefined) {
    throw new BadConfigError(
      `${REPO_CONFIG_PATH} does not exist at ${isFork ? `the base branch ${configRef}` : sha.slice(0, 7)}`,
      `add it, saying what to deploy (manifests:, helm:) and what to expose (expose: service and port)${isFork ? ', on the base branch: for pull requests from forks it is read from there' : ''}`,
    );
  }
  return { text, configRef, isFork };
}

/** The config and what it deploys; `source` when the config was read already (not read twice). */
export async function readApp(options: ReadAppOptions, source?: Promise<ConfigSource>): Promise<AppSource> {
  const { octokit, owner, repo, pr, sha } = options;
  const { text, configRef, isFork } = await (source ?? readConfigSource(options));
  const root = await mkdtemp(join(tmpdir(), 'vcp-repo-'));
  try {
    const at = { owner, repo, ref: sha };
    const app = await renderPreviewApp({
      configText: text,
      root,
      identity: { pr: { number: pr }, sha, repo: { name: repo, owner }, baseDomain: options.baseDomain },
      helmBinary: options.helmBinary,
      variables: options.variables,
      // Only what the config names is fetched, never the whole tree.
      fetch: async (config) => {
        const budget = fileBudget();
        for (const path of config.manifests ?? []) await downloadPath(octokit, at, path, root, { budget });
        if (config.helm) {
          await downloadPath(octokit, at, config.helm.chart, root, { recursive: true, budget });
          for (const file of config.helm.valuesFiles) await downloadPath(octokit, at, file, root, { budget });
        }
        // A kustomization's folder, and each local base it loads, with their subfolders.
        if (config.kustomize)
          await checkKustomization(root, config.kustomize, async (path) => {
            await downloadPath(octokit, at, path, root, { recursive: true, budget });
          });
        if (config.seed) await downloadPath(octokit, at, config.seed.job, root, { budget });
      },
    });
    return { ...app, configRef, isFork };
  } catch (error) {
    throw asBadConfig(error);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
