import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { httpStatusOf } from './http-error.ts';
import type { GitHubClient } from './reporter.ts';

/**
 * Reading a repository at one commit through the contents API, into a folder on disk that
 * `renderApp` reads as a checkout. Only what the config names is fetched, never the whole tree.
 */

export interface RepoAt {
  owner: string;
  repo: string;
  /** A commit id or branch name. */
  ref: string;
}

type ContentEntry = { type: string; path: string; content?: string; encoding?: string };

/** The entry (file) or entries (folder) at `path`, or undefined when there is nothing there. */
async function getContent(
  octokit: GitHubClient,
  at: RepoAt,
  path: string,
): Promise<ContentEntry | ContentEntry[] | undefined> {
  try {
    const { data } = await octokit.rest.repos.getContent({
      owner: at.owner,
      repo: at.repo,
      path,
      ref: at.ref,
    });
    return data as ContentEntry | ContentEntry[];
  } catch (error) {
    if (httpStatusOf(error) === 404) return undefined;
    throw error;
  }
}

const decode = (entry: ContentEntry): Buffer =>
  Buffer.from(entry.content ?? '', entry.encoding === 'base64' ? 'base64' : 'utf8');

/** The text of one file, or undefined when it does not exist at that commit. */
export async function readRepoFile(
  octokit: GitHubClient,
  at: RepoAt,
  path: string,
): Promise<string | undefined> {
  const data = await getContent(octokit, at, path);
  if (data === undefined || Array.isArray(data) || data.type !== 'file') return undefined;
  return decode(data).toString('utf8');
}

/**
 * Writes the file or folder at `path` into `root` under the same relative path. A folder's files
 * are fetched; its subfolders only when `recursive` (a Helm chart needs them, a manifests folder
 * does not). Missing paths are skipped: `renderApp` reports them to the user with the config's line.
 * Answers how many files were written.
 */
export async function downloadPath(
  octokit: GitHubClient,
  at: RepoAt,
  path: string,
  root: string,
  options: {
    recursive?: boolean;
    /** Told each file's path and size before it is written; throws to stop (preview/ fileBudget). */
    budget?: (path: string, bytes: number) => void;
  } = {},
): Promise<number> {
  const data = await getContent(octokit, at, path === '.' ? '' : path);
  if (data === undefined) return 0;
  const entries = Array.isArray(data) ? data : [data];
  let written = 0;
  for (const entry of entries) {
    if (entry.type === 'dir') {
      if (options.recursive) written += await downloadPath(octokit, at, entry.path, root, options);
      continue;
    }
    if (entry.type !== 'file') continue;
    // A listing carries no content: each file is fetched on its own.
    const file = entry.content === undefined ? await getContent(octokit, at, entry.path) : entry;
    if (file === undefined || Array.isArray(file)) continue;
    const target = join(root, entry.path);
    const bytes = decode(file);
    options.budget?.(entry.path, bytes.length);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    written++;
  }
  return written;
}
