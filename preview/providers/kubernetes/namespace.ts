import type { V1Namespace } from '@kubernetes/client-node';
import { ignoreNotFound, isAlreadyExists, type KubeClients } from '../../../kube/client.ts';
import { mergePatch } from '../../../kube/patch.ts';
import {
  annotations,
  type CreateOptions,
  labels,
  VirtualClusterError,
  type VirtualClusterState,
} from '../../provider.ts';

/** The host namespace of a virtual cluster: read it, mark its state, create or adopt it. */

export async function readNamespace(host: KubeClients, name: string): Promise<V1Namespace | undefined> {
  try {
    return await host.core.readNamespace({ name });
  } catch (error) {
    return ignoreNotFound(error);
  }
}

export async function setState(
  host: KubeClients,
  namespace: string,
  state: VirtualClusterState,
): Promise<V1Namespace> {
  return host.core.patchNamespace(
    { name: namespace, body: { metadata: { annotations: { [annotations.state]: state } } } },
    mergePatch,
  );
}

/** Creates the namespace, or adopts one already labelled for this virtual cluster. */
export async function ensureNamespace(
  host: KubeClients,
  options: CreateOptions,
  namespace: string,
): Promise<V1Namespace> {
  const ours = {
    [labels.vcluster]: options.name,
    [labels.provider]: 'kubernetes',
  };
  const check = (existing: V1Namespace): V1Namespace => {
    const nsLabels = existing.metadata?.labels ?? {};
    if (nsLabels[labels.vcluster] !== options.name) {
      throw new VirtualClusterError(
        `namespace ${namespace} exists and is not managed by vcluster-preview for virtual cluster ${options.name}; choose another with -n`,
      );
    }
    const provider = nsLabels[labels.provider];
    if (provider && provider !== 'kubernetes') {
      throw new VirtualClusterError(
        `namespace ${namespace} holds virtual cluster ${options.name} of the ${provider} provider; delete it there first or choose another namespace with -n`,
      );
    }
    if (existing.status?.phase === 'Terminating' || existing.metadata?.deletionTimestamp) {
      throw new VirtualClusterError(
        `namespace ${namespace} is still being deleted (an earlier delete of ${options.name}); wait until it is gone and create again`,
      );
    }
    return existing;
  };

  const existing = await readNamespace(host, namespace);
  if (existing) {
    check(existing);
    const nsAnnotations = existing.metadata?.annotations ?? {};
    return host.core.patchNamespace(
      {
        name: namespace,
        body: {
          metadata: {
            labels: { ...options.labels, ...ours },
            annotations: {
              ...options.annotations,
              ...(nsAnnotations[annotations.createdAt]
                ? {}
                : { [annotations.createdAt]: new Date().toISOString() }),
            },
          },
        },
      },
      mergePatch,
    );
  }
  try {
    return await host.core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: { ...options.labels, ...ours },
          annotations: {
            ...options.annotations,
            [annotations.createdAt]: new Date().toISOString(),
            [annotations.createdNamespace]: 'true',
            [annotations.state]: 'creating',
          },
        },
      },
    });
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    // Someone else made it meanwhile (another worker creating the same cluster, or a stranger).
    const raced = await readNamespace(host, namespace);
    if (!raced) throw error;
    return check(raced);
  }
}
