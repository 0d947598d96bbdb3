import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * `path` (relative to `from`, a folder of the checkout) as an absolute path inside the checkout at
 * `root`, or undefined when it points outside it: a repository's files may not name the machine's.
 */
export function insideRepo(root: string, path: string, from: string = root): string | undefined {
  const full = resolve(from, path);
  const rel = relative(resolve(root), full);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return full;
}

/** The repository-relative form of an absolute path inside it, with `/` (`.` for the root), for messages. */
export const repoRelative = (root: string, full: string): string =>
  relative(resolve(root), full).split(sep).join('/') || '.';
