import { dirname, isAbsolute, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';

/** A kubeconfig the CLI cannot use; the message says which file or context, and what would work. */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

/** Where the host cluster's kubeconfig came from, in the order they are tried. */
export type KubeconfigOrigin = '--kubeconfig' | 'KUBECONFIG' | 'the embedded host cluster' | '~/.kube/config';

export interface KubeconfigSource {
  origin: KubeconfigOrigin;
  /** The files, merged as kubectl merges them when there are several. */
  files: string[];
  /** Whether it is the embedded host cluster's (`host up`), however it was named. */
  embedded: boolean;
}

export interface KubeconfigCandidates {
  /** `--kubeconfig FILE`. */
  flag?: string;
  /** `$KUBECONFIG`: files separated by `delimiter` (`:`), as for kubectl. */
  env?: string;
  /** The kubeconfig of the embedded host cluster, when `host up` runs it. */
  embedded?: string;
  /** `~/.kube/config`. */
  home: string;
  exists: (file: string) => boolean;
  delimiter?: string;
}

/**
 * The host cluster kubeconfig a command uses: `--kubeconfig`, else `$KUBECONFIG` (like kubectl, a
 * list whose missing files are skipped), else the embedded host cluster while `host up` runs it,
 * else `~/.kube/config`. The embedded host comes before `~/.kube/config` so that `host up` is all
 * the commands after it need, whatever cluster kubectl talks to by default. Undefined when there is
 * none. Pure: `exists` answers for the file system.
 */
export function kubeconfigSource(candidates: KubeconfigCandidates): KubeconfigSource | undefined {
  const embedded = candidates.embedded ? resolve(candidates.embedded) : undefined;
  const source = (origin: KubeconfigOrigin, files: string[]): KubeconfigSource => ({
    origin,
    files,
    embedded: embedded !== undefined && files.some((file) => resolve(file) === embedded),
  });
  if (candidates.flag) return source('--kubeconfig', [candidates.flag]);
  const listed = (candidates.env ?? '').split(candidates.delimiter ?? ':').filter(Boolean);
  if (listed.length > 0) {
    const files = listed.filter(candidates.exists);
    if (files.length === 0)
      throw new KubeconfigError(
        `KUBECONFIG names no file that exists (${listed.join(', ')}): point it at a kubeconfig, unset it, or pass --kubeconfig FILE`,
      );
    return source('KUBECONFIG', files);
  }
  if (candidates.embedded) return source('the embedded host cluster', [candidates.embedded]);
  if (candidates.exists(candidates.home)) return source('~/.kube/config', [candidates.home]);
  return undefined;
}

interface Named {
  name: string;
  [key: string]: unknown;
}

/** Fields that name a file, by list: kubectl reads them relative to the kubeconfig that holds them. */
const pathFields = {
  clusters: { entry: 'cluster', fields: ['certificate-authority'] },
  users: { entry: 'user', fields: ['client-certificate', 'client-key', 'tokenFile', 'token-file'] },
  contexts: { entry: 'context', fields: [] },
} as const;

function entriesOf(value: unknown, list: keyof typeof pathFields, file: string): Named[] {
  const entries = value ?? [];
  if (!Array.isArray(entries) || entries.some((entry) => typeof entry?.name !== 'string'))
    throw new KubeconfigError(`${file}: ${list} must be a list of entries with a name`);
  const { entry: key, fields } = pathFields[list];
  return (entries as Named[]).map((entry) => {
    const body = entry[key];
    if (!body || typeof body !== 'object') return entry;
    const absolute = { ...(body as Record<string, unknown>) };
    for (const field of fields) {
      const value = absolute[field];
      if (typeof value === 'string' && value && !isAbsolute(value))
        absolute[field] = resolve(dirname(file), value);
    }
    return { ...entry, [key]: absolute };
  });
}

/**
 * One kubeconfig (YAML) of `files`, as kubectl merges `$KUBECONFIG`: the first file that names a
 * cluster, user or context wins it, and the first current-context wins. Relative file paths in them
 * become absolute (the result is passed on as text, away from its folder). `context` (`--context`)
 * becomes the current context; it must be one of theirs. Pure.
 */
export function mergeKubeconfigs(files: { path: string; text: string }[], context?: string): string {
  const lists = { clusters: [] as Named[], users: [] as Named[], contexts: [] as Named[] };
  let current: string | undefined;
  let rest: Record<string, unknown> = {};
  for (const { path, text } of files) {
    let config: unknown;
    try {
      config = parse(text);
    } catch (error) {
      throw new KubeconfigError(`${path} is not YAML: ${(error as Error).message}`);
    }
    if (config === null || config === undefined) continue;
    if (typeof config !== 'object' || Array.isArray(config))
      throw new KubeconfigError(
        `${path} is not a kubeconfig (a YAML mapping with clusters, users, contexts)`,
      );
    const {
      clusters,
      users,
      contexts,
      'current-context': currentContext,
      ...others
    } = config as Record<string, unknown>;
    const given = { clusters, users, contexts };
    for (const list of ['clusters', 'users', 'contexts'] as const) {
      for (const entry of entriesOf(given[list], list, path)) {
        if (!lists[list].some((known) => known.name === entry.name)) lists[list].push(entry);
      }
    }
    if (!current && typeof currentContext === 'string' && currentContext) current = currentContext;
    rest = { ...others, ...rest };
  }
  const names = lists.contexts.map((entry) => entry.name);
  const where = files.map((file) => file.path).join(', ');
  const choices = names.length > 0 ? `one of ${names.join(', ')}` : 'none: the kubeconfig has no contexts';
  if (context !== undefined && !names.includes(context))
    throw new KubeconfigError(`--context ${context}: no such context in ${where} (${choices})`);
  const selected = context ?? current;
  if (!selected)
    throw new KubeconfigError(`${where} sets no current-context: pass --context NAME (${choices})`);
  if (!names.includes(selected))
    throw new KubeconfigError(
      `${where}: current-context ${selected} is not one of its contexts; pass --context NAME (${choices})`,
    );
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    ...rest,
    clusters: lists.clusters,
    users: lists.users,
    contexts: lists.contexts,
    'current-context': selected,
  });
}

/** Makes `context` (`--context`) the current context of a loaded kubeconfig; it must be one of its own. */
export function useContext(config: KubeConfig, context: string | undefined): KubeConfig {
  if (context === undefined) return config;
  const names = config.getContexts().map((entry) => entry.name);
  if (!names.includes(context))
    throw new KubeconfigError(
      `--context ${context}: no such context in the kubeconfig (${names.length > 0 ? `one of ${names.join(', ')}` : 'it has none'})`,
    );
  config.setCurrentContext(context);
  return config;
}
