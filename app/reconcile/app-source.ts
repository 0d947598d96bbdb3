import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  DeployError,
  ManifestError,
  PreviewHostError,
  previewHost,
  renderApp,
} from '../../preview/deploy/index.ts';
import {
  parseRepoConfig,
  REPO_CONFIG_PATH,
  type RepoConfig,
  RepoConfigError,
  SubstitutionError,
} from '../../preview/repo-config.ts';
import type { GitHubClient } from '../github-reporter.ts';
import { BadConfigError } from '../queue/bad-config-error.ts';
import { downloadPath, readRepoFile } from './repo-files.ts';

/**
 * What to deploy for one commit of a pull request: the repo config and the rendered objects.
 *
 * Where the config comes from: the pull request is read through the API; when its head repository
 * is another than its base (a fork), the config is read from the base branch (`base.ref`), never
 * from the fork, so a fork cannot change what is deployed or how (forks, urlTemplate, helm values).
 * The manifests are read at the commit being deployed (a maintainer approved that commit).
 */

export interface AppSource {
  config: RepoConfig;
  objects: KubernetesObject[];
  /** Host name of the preview (`pr-12-hello.preview.example.com`). */
  host: string;
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
}

const CONFIG_HINT = `fix ${REPO_CONFIG_PATH} and push a commit`;

/** Turns what only the pull request's author can fix into a BadConfigError; anything else goes through. */
export function asBadConfig(error: unknown): unknown {
  if (error instanceof BadConfigError) return error;
  if (error instanceof RepoConfigError) return new BadConfigError(error.message, CONFIG_HINT);
  if (error instanceof ManifestError)
    return new BadConfigError(error.message, 'fix the files named above and push a commit');
  if (error instanceof SubstitutionError || error instanceof PreviewHostError)
    return new BadConfigError(error.message, CONFIG_HINT);
  // The API server refused a manifest as invalid (400/404/422): a retry cannot fix that, a commit can.
  if (
    error instanceof DeployError &&
    error.failures.every((f) => f.status !== undefined && [400, 404, 422].includes(f.status))
  )
    return new BadConfigError(
      error.message,
      'fix the objects named above in your manifests and push a commit',
    );
  return error;
}

export async function readApp(options: ReadAppOptions): Promise<AppSource> {
  const { octokit, owner, repo, pr, sha } = options;
  const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: pr });
  const headRepo = pull.head.repo?.full_name?.toLowerCase();
  const isFork = headRepo !== undefined && headRepo !== pull.base.repo.full_name.toLowerCase();
  const configRef = isFork ? pull.base.ref : sha;

  const text = await readRepoFile(octokit, { owner, repo, ref: configRef }, REPO_CONFIG_PATH);
  if (text === undefined) {
    throw new BadConfigError(
      `${REPO_CONFIG_PATH} does not exist at ${isFork ? `the base branch ${configRef}` : sha.slice(0, 7)}`,
      `add it, saying what to deploy (manifests:, helm:) and what to expose (expose: service and port)${isFork ? ', on the base branch: for pull requests from forks it is read from there' : ''}`,
    );
  }
  try {
    const config = parseRepoConfig(text);
    const base = { pr: { number: pr }, sha, repo: { name: repo, owner }, baseDomain: options.baseDomain };
    const host = previewHost(config.urlTemplate, base);
    const root = await mkdtemp(join(tmpdir(), 'vcp-repo-'));
    try {
      const at = { owner, repo, ref: sha };
      for (const path of config.manifests ?? []) await downloadPath(octokit, at, path, root);
      if (config.helm) {
        await downloadPath(octokit, at, config.helm.chart, root, { recursive: true });
        for (const file of config.helm.valuesFiles) await downloadPath(octokit, at, file, root);
      }
      const objects = await renderApp({
        root,
        config,
        values: { ...base, preview: { host } },
        helm: options.helmBinary,
      });
      return { config, objects, host, configRef, isFork };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  } catch (error) {
    throw asBadConfig(error);
  }
}
