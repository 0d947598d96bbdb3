import type { KubeClients } from './client.ts';
import { waitUntil } from './wait.ts';

/**
 * Deletes every pod of a namespace and waits until they are gone. Do it before deleting a
 * namespace: the namespace controller, finding pods still terminating, waits out their whole
 * grace period (30 s by default) before it looks again, even when they stopped in a second.
 */
export async function deletePodsAndWait(
  host: KubeClients,
  namespace: string,
  timeoutMs: number,
): Promise<void> {
  await host.core.deleteCollectionNamespacedPod({ namespace });
  await waitUntil(
    async () => (await host.core.listNamespacedPod({ namespace, limit: 1 })).items.length === 0,
    {
      what: `the pods of namespace ${namespace} to stop`,
      timeoutMs,
      intervalMs: 250,
    },
  );
}
