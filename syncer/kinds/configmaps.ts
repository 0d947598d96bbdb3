import type { V1ConfigMap } from '@kubernetes/client-node';
import { copyDown } from '../engine/copy-down.ts';
import type { DeleteHost, ResourceSyncer } from '../engine/resource-syncer.ts';
import { usedByPods } from '../engine/used-by-pods.ts';
import { configMapNeedsRecreate, configMapToHost, configMapUpdateToHost } from '../translate/configmap.ts';
import { isForceSynced } from '../translate/metadata.ts';
import { podReferences } from '../translate/pod.ts';

const deleteHost: DeleteHost = (host, request) => host.core.deleteNamespacedConfigMap(request);

/**
 * ConfigMaps: down to the host only while a virtual pod of the same namespace uses them (volume,
 * projected source, env or envFrom, including the `kube-root-ca.crt` every service-account volume
 * projects), or while they carry `vcluster.loft.sh/force-sync=true`. Once unused, the host copy goes.
 * The pod syncer queues a pod's ConfigMaps on every pod event (delete included), so usage is looked
 * at again whenever it may have changed. An immutable host copy cannot take new data: it is replaced.
 */
export function configMapSyncer(): ResourceSyncer<V1ConfigMap> {
  return {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    resource: 'configmaps',
    listVirtual: (virtual) => virtual.core.listConfigMapForAllNamespaces(),
    listHost: (host, query) => host.core.listNamespacedConfigMap(query),
    deleteHost,
    shouldSync: (context, configMap) =>
      isForceSynced(configMap) || usedByPods(context, configMap, (pod) => podReferences(pod).configMaps),
    usedBy: ['Pod'],
    ...copyDown({
      toHost: configMapToHost,
      updateToHost: configMapUpdateToHost,
      needsRecreate: configMapNeedsRecreate,
      createHost: (host, request) => host.core.createNamespacedConfigMap(request),
      patchHost: (host, request, options) => host.core.patchNamespacedConfigMap(request, options),
      deleteHost,
    }),
  };
}
