import { basename, resolve } from 'node:path';
import { VirtualClusterError } from './provider.ts';

/**
 * Names of a working tree's preview (pure): a tree is named after its folder unless named
 * otherwise, and its virtual cluster is `tree-<name>` in host namespace `preview-tree-<name>`, apart
 * from every pull request's (`pr-…`, `preview-pr-…`).
 */

/** Longest tree name: `preview-tree-` plus it stays a DNS label, with room for the syncer's suffixes. */
export const MAX_TREE_NAME = 40;

const treeNamePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The folder's name made a DNS label: lowercase, other characters `-`, cut to MAX_TREE_NAME. */
export function defaultTreeName(dir: string): string {
  const slug = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, MAX_TREE_NAME)
    .replace(/^-+|-+$/g, '');
  return slug || 'tree';
}

/** `name` if it can name a tree's preview, else an error that says what to give. */
export function checkTreeName(name: string): string {
  if (name.length > MAX_TREE_NAME || !treeNamePattern.test(name)) {
    throw new VirtualClusterError(
      `--name ${JSON.stringify(name)} cannot name a preview: use lowercase letters, digits and '-', at most ${MAX_TREE_NAME} characters, starting and ending with a letter or digit`,
    );
  }
  return name;
}

export function treePreviewRef(name: string): { name: string; namespace: string } {
  return { name: `tree-${name}`, namespace: `preview-tree-${name}` };
}

/**
 * The version a tree's files are deployed as (`${{ sha }}`): its git commit, with `-dirty` when files
 * differ from it (as `git describe --dirty` marks them), or `local` for a folder outside git.
 */
export function treeVersion(git: { commit?: string; changed: boolean } | undefined): string {
  if (!git?.commit) return 'local';
  return git.changed ? `${git.commit}-dirty` : git.commit;
}
