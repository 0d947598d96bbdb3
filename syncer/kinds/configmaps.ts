import type { KubernetesListObject, KubernetesObject, V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import {
  type InformerSource,
  RequeueAfter,
  type ResourceSyncer,
  type SyncAction,
  type SyncContext,
} from '../engine/resource-syncer.ts';
import { configMapNeedsRecreate, configMapToHost, configMapUpdateToHost } from '../translate/configmap.ts';
import { isForceSynced, MARKER_LABEL, type SyncedKind } from '../translate/metadata.ts';
import { podReferences } from '../translate/pod.ts';

/**
 * ConfigMaps: down to the host only while a virtual pod of the same namespace uses them (volume,
 * projected source, env or envFrom, including the `kube-root-ca.crt` every service-account volume
 * projects), or while they carry `vcluster.loft.sh/force-sync=true`. Once unused, the host copy goes.
 * The pod syncer queues a pod's ConfigMaps on every pod event (delete included), so usage is looked
 * at again whenever it may have changed.
 */
export function configMapSyncer(): ResourceSyncer<V1ConfigMap> {
  return {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    virtualSource: ({ virtual }) => ({
      path: '/api/v1/configmaps',
      list: () => virtual.core.listConfigMapForAllNamespaces(),
    }),
    hostSource: (context) =>
      managedHostSource(context, 'configmaps', (labelSelector) =>
        context.host.core.listNamespacedConfigMap({
          namespace: context.translate.hostNamespace,
          labelSelector,
        }),
      ),
    shouldSync: (context, configMap) =>
      isForceSynced(configMap) || usedByPods(context, configMap, (pod) => podReferences(pod).configMaps),

    async syncToHost(context, configMap) {
      await context.host.core.createNamespacedConfigMap({
        namespace: context.translate.hostNamespace,
        body: configMapToHost(configMap, context.translate),
      });
      return 'create';
    },

    async sync(context, configMap, hostConfigMap) {
      const { host, translate } = context;
      if (configMapNeedsRecreate(configMap, hostConfigMap)) {
        // An immutable host copy cannot take the new data: replace it.
        await deleteHostObject(context, hostConfigMap, (name, namespace, uid) =>
          host.core.deleteNamespacedConfigMap({ name, namespace, body: { preconditions: { uid } } }),
        );
        await host.core.createNamespacedConfigMap({
          namespace: translate.hostNamespace,
          body: configMapToHost(configMap, translate),
        });
        return 'create';
      }
      const patch = configMapUpdateToHost(configMap, hostConfigMap, translate);
      if (!patch) return 'none';
      await host.core.patchNamespacedConfigMap(
        { name: hostConfigMap.metadata?.name ?? '', namespace: translate.hostNamespace, body: patch },
        mergePatch,
      );
      return 'update';
    },

    async deleteFromHost(context, hostConfigMap) {
      // Unused (or gone) in the virtual cluster. Usage is read from the pod cache: while that cache
      // is still being filled (syncer start), "no pod uses it" means nothing yet.
      requireUsageCaches(context, ['Pod']);
      return deleteHostObject(context, hostConfigMap, (name, namespace, uid) =>
        context.host.core.deleteNamespacedConfigMap({ name, namespace, body: { preconditions: { uid } } }),
      );
    },
  };
}

/** The host side of a kind: only objects labelled as this virtual cluster's. */
export function managedHostSource<H extends KubernetesObject>(
  { translate }: SyncContext,
  resource: string,
  list: (labelSelector: string) => Promise<KubernetesListObject<H>>,
): InformerSource<H> {
  const labelSelector = `${MARKER_LABEL}=${translate.vclusterName}`;
  return {
    path: `/api/v1/namespaces/${translate.hostNamespace}/${resource}`,
    list: () => list(labelSelector),
    labelSelector,
  };
}

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

/**
 * Throws a short requeue while a cache that usage is read from has not been listed yet, so a syncer
 * start never deletes host copies that are still in use. A cache of a kind that is not synced at all
 * is empty for good and counts as filled.
 */
export function requireUsageCaches(context: SyncContext, kinds: readonly SyncedKind[]): void {
  for (const kind of kinds) {
    if (!context.virtualCache(kind).hasSynced)
      throw new RequeueAfter(500, `virtual ${kind} cache not filled yet`);
  }
}

/** Deletes a host object with a UID precondition (never a newer object of the same name); gone is fine. */
export async function deleteHostObject(
  context: SyncContext,
  hostObject: KubernetesObject,
  remove: (name: string, namespace: string, uid: string | undefined) => Promise<unknown>,
): Promise<SyncAction> {
  if (hostObject.metadata?.deletionTimestamp) return 'none';
  try {
    await remove(hostObject.metadata?.name ?? '', context.translate.hostNamespace, hostObject.metadata?.uid);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return 'delete';
}
