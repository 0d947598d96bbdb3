import type { V1Endpoints, V1Service } from '@kubernetes/client-node';
import { mergePatch } from '../../kube/patch.ts';
import type { ResourceSyncer } from '../engine/resource-syncer.ts';
import { endpointsToHost, endpointsUpdateToHost } from '../translate/endpoints.ts';
import { MARKER_LABEL } from '../translate/metadata.ts';
import { needsEndpointsSync } from '../translate/service.ts';

/**
 * Endpoints of services without a selector (maintained by hand in the virtual cluster). The host's
 * endpoints controller serves every service with a selector, so those are never copied.
 */
export function endpointsSyncer(): ResourceSyncer<V1Endpoints> {
  return {
    kind: 'Endpoints',
    apiVersion: 'v1',
    virtualSource: ({ virtual }) => ({
      path: '/api/v1/endpoints',
      list: () => virtual.core.listEndpointsForAllNamespaces(),
    }),
    hostSource: ({ host, translate }) => ({
      path: `/api/v1/namespaces/${translate.hostNamespace}/endpoints`,
      list: () =>
        host.core.listNamespacedEndpoints({
          namespace: translate.hostNamespace,
          labelSelector: `${MARKER_LABEL}=${translate.vclusterName}`,
        }),
      labelSelector: `${MARKER_LABEL}=${translate.vclusterName}`,
    }),
    ignoreVirtual: (endpoints) =>
      endpoints.metadata?.namespace === 'default' && endpoints.metadata.name === 'kubernetes',
    shouldSync(context, endpoints) {
      const service = context
        .virtualCache<V1Service>('Service')
        .get(endpoints.metadata?.name ?? '', endpoints.metadata?.namespace);
      return !!service && needsEndpointsSync(service);
    },

    async syncToHost(context, endpoints) {
      await context.host.core.createNamespacedEndpoints({
        namespace: context.translate.hostNamespace,
        body: endpointsToHost(endpoints, context.translate),
      });
      return 'create';
    },

    async sync(context, endpoints, hostEndpoints) {
      const patch = endpointsUpdateToHost(endpoints, hostEndpoints, context.translate);
      if (!patch) return 'none';
      await context.host.core.patchNamespacedEndpoints(
        { name: hostEndpoints.metadata?.name ?? '', namespace: context.translate.hostNamespace, body: patch },
        mergePatch,
      );
      return 'update';
    },

    async deleteFromHost(context, hostEndpoints) {
      await context.host.core.deleteNamespacedEndpoints({
        name: hostEndpoints.metadata?.name ?? '',
        namespace: context.translate.hostNamespace,
        body: { preconditions: { uid: hostEndpoints.metadata?.uid } },
      });
      return 'delete';
    },
  };
}
