import { createHash } from 'node:crypto';

/** Kubernetes object names and label name parts are at most 63 characters (DNS label). */
export const MAX_NAME_LENGTH = 63;

/** Lowercase hex SHA-256 of a UTF-8 string. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * vcluster's SafeConcatName: join the parts with `-`; when the result is longer than 63 characters keep
 * the first 52, add `-` and the first 10 hex characters of the SHA-256 of the full joined string.
 * Only in that truncated case every `.-` becomes `-` (a cut right after a dot would otherwise leave an
 * invalid `.-`); short names are returned untouched, exactly as vcluster does.
 * Kubernetes names are ASCII, so JavaScript string length equals Go's byte length here.
 */
export function safeConcatName(...parts: string[]): string {
  const full = parts.join('-');
  if (full.length <= MAX_NAME_LENGTH) return full;
  return `${full.slice(0, 52)}-${sha256Hex(full).slice(0, 10)}`.replaceAll('.-', '-');
}

/**
 * Host name of a namespaced virtual object: `<name>-x-<namespace>-x-<vcluster>` (shortened by
 * safeConcatName). An empty name stays empty, so optional references stay unset.
 */
export function hostName(name: string, virtualNamespace: string, vclusterName: string): string {
  if (name === '') return '';
  return safeConcatName(name, 'x', virtualNamespace, 'x', vclusterName);
}

/**
 * Host name of a cluster-scoped virtual object (vcluster: `vcluster-<name>-x-<hostNamespace>-x-<vc>`),
 * used for persistent volume names when real PVs are synced.
 */
export function hostNameClusterScoped(name: string, hostNamespace: string, vclusterName: string): string {
  if (name === '') return '';
  return safeConcatName('vcluster', name, 'x', hostNamespace, 'x', vclusterName);
}
