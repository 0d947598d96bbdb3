import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/client.ts';

/**
 * The pods a label selector picks (none without a selector) and every event of a namespace, read
 * together for a diagnosis (preview/diagnose.ts formats them; the caller picks the events it is about).
 */
export async function readPodsAndEvents(
  clients: KubeClients,
  namespace: string,
  labelSelector: string | undefined,
): Promise<{ pods: V1Pod[]; events: CoreV1Event[] }> {
  const [pods, events] = await Promise.all([
    labelSelector ? clients.core.listNamespacedPod({ namespace, labelSelector }) : { items: [] },
    clients.core.listNamespacedEvent({ namespace }),
  ]);
  return { pods: pods.items, events: events.items };
}
