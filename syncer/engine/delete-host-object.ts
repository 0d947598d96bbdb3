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
  // The grace period goes in the body: the API server reads a DELETE's query options only without one.
  await deleteHost(host, {
    name: hostObject.metadata?.name ?? '',
    namespace: translate.hostNamespace,
    body: {
      ...(options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }),
      preconditions: { uid: hostObject.metadata?.uid },
    },
  }).catch(ignoreNotFound);
  return 'delete';
}
