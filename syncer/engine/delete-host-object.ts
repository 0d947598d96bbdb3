import type { KubernetesObject } from '@kubernetes/client-node';
import { ignoreNotFound } from '../../kube/client.ts';
import type { DeleteHost, SyncAction, SyncContext } from './resource-syncer.ts';

/**
 * Deletes a host object with a UID precondition (never a newer object of the same name). One that
 * is already terminating is left to finish; one already gone counts as deleted.
 */
export async function deleteHostObject(
  { host, translate }: Pick<SyncContext, 'host' | 'translate'>,
  hostObject: KubernetesObject,
  deleteHost: DeleteHost,
  options: { gracePeriodSeconds?: number } = {},
): Promise<SyncAction> {
  if (hostObject.metadata?.deletionTimestamp) return 'none';
  await deleteHost(host, {
    name: hostObject.metadata?.name ?? '',
    namespace: translate.hostNamespace,
    ...(options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }),
    body: { preconditions: { uid: hostObject.metadata?.uid } },
  }).catch(ignoreNotFound);
  return 'delete';
}
