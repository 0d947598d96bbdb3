import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { SyncContext } from './resource-syncer.ts';

/** Whether a virtual pod of the object's namespace names it, per `refsOf`. */
export function usedByPods(
  context: SyncContext,
  object: KubernetesObject,
  refsOf: (pod: V1Pod) => readonly string[],
): boolean {
  const name = object.metadata?.name ?? '';
  const pods = context.virtualCache<V1Pod>('Pod').list(object.metadata?.namespace ?? '');
  return pods.some((pod) => refsOf(pod).includes(name));
}
