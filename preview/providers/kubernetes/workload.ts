import type { V1Pod } from '@kubernetes/client-node';
import { ignoreNotFound, type KubeClients } from '../../../kube/client.ts';
import { mergePatch } from '../../../kube/patch.ts';
import { controlPlaneSelector } from './names.ts';

/** The chart's control plane: its workload (a StatefulSet with persistence, a Deployment without) and pods. */

export type WorkloadKind = 'StatefulSet' | 'Deployment';

export interface Workload {
  kind: WorkloadKind;
  replicas: number;
  annotations: Record<string, string>;
}

export async function readWorkload(
  host: KubeClients,
  name: string,
  namespace: string,
): Promise<Workload | undefined> {
  for (const kind of ['StatefulSet', 'Deployment'] as const) {
    try {
      const object =
        kind === 'StatefulSet'
          ? await host.apps.readNamespacedStatefulSet({ name, namespace })
          : await host.apps.readNamespacedDeployment({ name, namespace });
      return {
        kind,
        replicas: object.spec?.replicas ?? 1,
        annotations: object.metadata?.annotations ?? {},
      };
    } catch (error) {
      ignoreNotFound(error);
    }
  }
  return undefined;
}

export async function patchWorkload(
  host: KubeClients,
  kind: WorkloadKind,
  name: string,
  namespace: string,
  body: object,
): Promise<void> {
  if (kind === 'StatefulSet')
    await host.apps.patchNamespacedStatefulSet({ name, namespace, body }, mergePatch);
  else await host.apps.patchNamespacedDeployment({ name, namespace, body }, mergePatch);
}

/** The control plane pods of a release (one, unless a rollout of the workload is under way). */
export async function controlPlanePods(host: KubeClients, name: string, namespace: string): Promise<V1Pod[]> {
  const pods = await host.core.listNamespacedPod({ namespace, labelSelector: controlPlaneSelector(name) });
  return pods.items;
}
