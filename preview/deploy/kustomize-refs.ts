import { parse } from 'yaml';

/**
 * What one kustomization file points at (pure): the other kustomizations and resources it loads
 * (`resources`, `bases`, `components`), each either a path of the checkout or a remote base (a URL,
 * a git repository) that a preview refuses, since the pull request's checkout is its only source.
 */

/** The names kustomize looks for in a folder, in its order. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

export interface KustomizationRef {
  /** The field it is listed under. */
  field: 'resources' | 'bases' | 'components';
  /** As written. */
  target: string;
  remote: boolean;
}

/**
 * Whether kustomize would fetch `target` from elsewhere: a URL (`https://…`, `git::…`, `ssh://…`),
 * an scp-like git address (`git@github.com:org/repo`), or a `host.tld/org/repo` path of a known
 * git host, with or without `?ref=`.
 */
export function isRemoteTarget(target: string): boolean {
  if (/^[a-z][a-z0-9+.-]*::/i.test(target) || /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return true;
  if (/^[\w.-]+@[\w.-]+:/.test(target)) return true;
  if (/[?&](ref|version|timeout|submodules)=/.test(target)) return true;
  return /^(github\.com|gitlab\.com|bitbucket\.org|dev\.azure\.com|[\w-]+\.visualstudio\.com)\//i.test(
    target,
  );
}

/**
 * The references of a kustomization's text, or a message saying why it cannot be read (not YAML,
 * not a mapping, a field that is not a list of strings).
 */
export function kustomizationRefs(text: string): KustomizationRef[] | { problem: string } {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    return { problem: `not valid YAML: ${(error as Error).message.split('\n')[0]}` };
  }
  if (data === null || data === undefined) return [];
  if (typeof data !== 'object' || Array.isArray(data)) return { problem: 'expected a mapping' };
  const refs: KustomizationRef[] = [];
  for (const field of ['resources', 'bases', 'components'] as const) {
    const list = (data as Record<string, unknown>)[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string'))
      return { problem: `${field}: expected a list of paths` };
    for (const target of list as string[]) refs.push({ field, target, remote: isRemoteTarget(target) });
  }
  return refs;
}
