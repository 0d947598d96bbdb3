import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { COMMIT_ANNOTATION, identityOf, type ObjectRef, phaseOf, refOf } from './objects.ts';

/**
 * The inventory (pure parts): the list of what was deployed into a virtual cluster, kept in a
 * ConfigMap there, and what to prune when a new render no longer has an object. Pruning goes by this
 * list rather than by a label query, so objects of any kind are found, also kinds no longer rendered.
 */

export const INVENTORY_NAME = 'vcluster-preview-inventory';
export const INVENTORY_NAMESPACE = 'kube-system';
const INVENTORY_KEY = 'objects.json';

/** The references of `objects`, for the inventory. */
export const inventoryOf = (objects: readonly KubernetesObject[]): ObjectRef[] =>
  uniqueRefs(objects.map(refOf));

/** `refs` deduplicated by identity (the last wins), sorted for a stable inventory. */
export function uniqueRefs(refs: readonly ObjectRef[]): ObjectRef[] {
  const byIdentity = new Map<string, ObjectRef>();
  for (const ref of refs) byIdentity.set(identityOf(ref), ref);
  return [...byIdentity.values()].sort(compareRefs);
}

function compareRefs(a: ObjectRef, b: ObjectRef): number {
  return (
    phaseOf(a) - phaseOf(b) ||
    a.kind.localeCompare(b.kind) ||
    (a.namespace ?? '').localeCompare(b.namespace ?? '') ||
    a.name.localeCompare(b.name)
  );
}

/** What `previous` lists and `current` does not, in the order to delete it: namespaces and CRDs last. */
export function toPrune(previous: readonly ObjectRef[], current: readonly ObjectRef[]): ObjectRef[] {
  const keep = new Set(current.map(identityOf));
  return uniqueRefs(previous.filter((ref) => !keep.has(identityOf(ref)))).sort(
    (a, b) => phaseOf(b) - phaseOf(a) || compareRefs(a, b),
  );
}

/** The objects grouped in apply order: namespaces, then CRDs, then the rest (each group in render order). */
export function applyPhases(objects: readonly KubernetesObject[]): KubernetesObject[][] {
  const phases: KubernetesObject[][] = [[], [], []];
  for (const object of objects) phases[phaseOf(refOf(object))]?.push(object);
  return phases.filter((phase) => phase.length > 0);
}

/** The inventory ConfigMap listing `refs`. */
export function inventoryConfigMap(refs: readonly ObjectRef[], commit?: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: INVENTORY_NAME,
      namespace: INVENTORY_NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'vcluster-preview' },
      ...(commit ? { annotations: { [COMMIT_ANNOTATION]: commit } } : {}),
    },
    data: {
      [INVENTORY_KEY]: `[\n${uniqueRefs(refs)
        .map((ref) => `  ${JSON.stringify(ref)}`)
        .join(',\n')}\n]\n`,
    },
  };
}

const isRef = (value: unknown): value is ObjectRef => {
  const ref = value as Partial<ObjectRef> | null;
  return (
    typeof ref === 'object' &&
    ref !== null &&
    typeof ref.apiVersion === 'string' &&
    typeof ref.kind === 'string' &&
    typeof ref.name === 'string' &&
    (ref.namespace === undefined || typeof ref.namespace === 'string')
  );
};

/** The refs an inventory ConfigMap lists (nothing for a missing or unreadable one). */
export function refsOfInventory(configMap: V1ConfigMap | undefined): ObjectRef[] {
  const text = configMap?.data?.[INVENTORY_KEY];
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter(isRef) : [];
  } catch {
    return [];
  }
}
