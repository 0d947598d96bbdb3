import type { RbacAuthorizationV1Api, V1Namespace } from '@kubernetes/client-node';
import { ignoreNotFound, isForbidden, isNotFound, type KubeClients } from '../../../kube/client.ts';
import { mergePatch } from '../../../kube/patch.ts';
import { deletePodsAndWait } from '../../../kube/pods.ts';
import {
  annotations,
  labels,
  namespaceFor,
  VirtualClusterError,
  type VirtualClusterRef,
} from '../../provider.ts';
import { type Helm, HelmError } from './helm.ts';
import {
  clusterRoleName,
  controlPlaneSelector,
  kubeconfigSecretName,
  managedByLabel,
  pkiSecretName,
} from './names.ts';
import { readNamespace } from './namespace.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Uninstalls a release and removes what the chart leaves: its PVCs, its cluster-scoped RBAC, and
 * the namespace when the provider made it (waiting until it is gone); an adopted namespace stays,
 * without the virtual cluster's Secrets, pods and marks.
 */
export async function deleteVirtualCluster(
  host: KubeClients,
  rbac: RbacAuthorizationV1Api,
  helm: Helm,
  ref: VirtualClusterRef,
  deleteTimeoutMs: number,
): Promise<void> {
  const namespace = namespaceFor(ref);
  const existing = await readNamespace(host, namespace);
  const owner = existing?.metadata?.labels?.[labels.vcluster];
  if (existing && owner !== ref.name) {
    throw new VirtualClusterError(
      `namespace ${namespace} is not managed by vcluster-preview for virtual cluster ${ref.name}${owner ? ` (it holds ${owner})` : ''}; nothing was deleted`,
    );
  }

  if (existing) {
    await helm(['uninstall', ref.name, '--namespace', namespace, '--ignore-not-found']).catch((error) => {
      if (error instanceof HelmError && /not found/i.test(error.stderr)) return '';
      throw new VirtualClusterError(
        `helm uninstall ${ref.name} in namespace ${namespace} failed: ${error instanceof HelmError ? error.stderr.trim() : String(error)}`,
      );
    });
    const claims = await host.core.listNamespacedPersistentVolumeClaim({
      namespace,
      labelSelector: controlPlaneSelector(ref.name),
    });
    for (const claim of claims.items) {
      await host.core
        .deleteNamespacedPersistentVolumeClaim({ name: claim.metadata?.name ?? '', namespace })
        .catch((error) => {
          ignoreNotFound(error);
        });
    }
  }

  // Cluster-scoped objects of the chart outlive the namespace: remove them even without a release.
  const clusterScoped = clusterRoleName(ref.name, namespace);
  for (const [read, remove] of [
    [
      () => rbac.readClusterRoleBinding({ name: clusterScoped }),
      () => rbac.deleteClusterRoleBinding({ name: clusterScoped }),
    ],
    [
      () => rbac.readClusterRole({ name: clusterScoped }),
      () => rbac.deleteClusterRole({ name: clusterScoped }),
    ],
  ] as const) {
    try {
      const object = (await read()) as { metadata?: { labels?: Record<string, string> } };
      if (object.metadata?.labels?.release === ref.name) await remove();
    } catch (error) {
      // An account that may not read them (the service chart's worker, whose previews are
      // installed without a ClusterRole) cannot have made them either.
      if (!isNotFound(error) && !isForbidden(error)) throw error;
    }
  }

  if (!existing) return;
  if (existing.metadata?.annotations?.[annotations.createdNamespace] === 'true') {
    if (!existing.metadata?.deletionTimestamp) {
      await deletePodsAndWait(host, namespace, deleteTimeoutMs);
      await host.core.deleteNamespace({ name: namespace }).catch((error) => {
        ignoreNotFound(error);
      });
    }
    const deadline = Date.now() + deleteTimeoutMs;
    let last: V1Namespace | undefined = existing;
    while (last) {
      if (Date.now() >= deadline) {
        const conditions = (last.status?.conditions ?? [])
          .filter((c) => c.status === 'True')
          .map((c) => `${c.type}: ${c.message ?? c.reason ?? ''}`);
        throw new VirtualClusterError(
          `namespace ${namespace} of virtual cluster ${ref.name} is still terminating after ${Math.round(deleteTimeoutMs / 1000)}s` +
            (conditions.length > 0 ? ` (${conditions.join('; ')})` : '') +
            `; look for finalizers with: kubectl get namespace ${namespace} -o yaml; kubectl api-resources --verbs=list --namespaced -o name | xargs -n1 kubectl get -n ${namespace} --ignore-not-found`,
        );
      }
      await sleep(500);
      last = await readNamespace(host, namespace);
    }
    return;
  }

  // A namespace we adopted stays: remove what the virtual cluster left in it and our marks.
  for (const secret of [kubeconfigSecretName(ref.name), pkiSecretName(ref.name)]) {
    await host.core.deleteNamespacedSecret({ name: secret, namespace }).catch((error) => {
      ignoreNotFound(error);
    });
  }
  await host.core.deleteCollectionNamespacedPod({
    namespace,
    labelSelector: `${managedByLabel}=${ref.name}`,
  });
  const marks = (keys: string[]) => Object.fromEntries(keys.map((key) => [key, null]));
  await host.core.patchNamespace(
    {
      name: namespace,
      body: {
        metadata: {
          labels: marks([labels.vcluster, labels.provider]),
          annotations: marks([annotations.state, annotations.createdAt, annotations.createdNamespace]),
        },
      },
    },
    mergePatch,
  );
}
