import type { V1Endpoints, V1Pod, V1Service } from '@kubernetes/client-node';
import { mergePatch } from '../../kube/patch.ts';
import { deleteHostObject } from '../engine/delete-host-object.ts';
import type { DeleteHost, ResourceSyncer, SyncAction, SyncContext } from '../engine/resource-syncer.ts';
import {
  ENDPOINTS_NOT_SYNCED_REASON,
  endpointsRefusal,
  endpointsToHost,
  endpointsUpdateToHost,
} from '../translate/endpoints.ts';
import { needsEndpointsSync } from '../translate/service.ts';

/**
 * Hand-written endpoints are looked at again this often while they exist: refused ones because the
 * pod they name may not have had its IP yet, copied ones because their pod may be gone and its IP
 * handed to someone else's pod.
 */
export const ENDPOINTS_RECHECK_MS = 10_000;

const deleteHost: DeleteHost = (host, request) => host.core.deleteNamespacedEndpoints(request);

/**
 * IPs of the pods this syncer runs in its host namespace (its host pod cache holds only its own);
 * finished pods are left out, their IPs go back to the host's pool.
 */
function ownPodIPs(context: SyncContext): Set<string> {
  const ips = new Set<string>();
  for (const pod of context.hostCache<V1Pod>('Pod').list(context.translate.hostNamespace)) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    if (pod.status?.podIP) ips.add(pod.status.podIP);
    for (const { ip } of pod.status?.podIPs ?? []) if (ip) ips.add(ip);
  }
  return ips;
}

/** Refuses endpoints that point outside the preview's own pods, telling the owner why. */
function refused(context: SyncContext, endpoints: V1Endpoints): boolean {
  const message = endpointsRefusal(endpoints, ownPodIPs(context));
  if (!message) return false;
  void context.recorder.warning(
    { ...endpoints, kind: 'Endpoints', apiVersion: 'v1' },
    ENDPOINTS_NOT_SYNCED_REASON,
    message,
  );
  return true;
}

/**
 * Endpoints of services without a selector (maintained by hand in the virtual cluster). The host's
 * endpoints controller serves every service with a selector, so those are never copied. They are
 * copied only while every address is one of this virtual cluster's own pods; otherwise the host copy
 * goes and a Warning event on the virtual endpoints says which addresses and why.
 */
export function endpointsSyncer(options: { recheckMs?: number } = {}): ResourceSyncer<V1Endpoints> {
  // One pending recheck per key at most, so the timers stay as many as the endpoints.
  const rechecks = new Set<string>();
  const recheckLater = (context: SyncContext, endpoints: V1Endpoints) => {
    const key = `${endpoints.metadata?.namespace}/${endpoints.metadata?.name}`;
    if (rechecks.has(key)) return;
    rechecks.add(key);
    setTimeout(() => {
      rechecks.delete(key);
      context.enqueue('Endpoints', key);
    }, options.recheckMs ?? ENDPOINTS_RECHECK_MS).unref();
  };
  return {
    kind: 'Endpoints',
    apiVersion: 'v1',
    resource: 'endpoints',
    listVirtual: (virtual) => virtual.core.listEndpointsForAllNamespaces(),
    listHost: (host, query) => host.core.listNamespacedEndpoints(query),
    deleteHost,
    ignoreVirtual: (endpoints) =>
      endpoints.metadata?.namespace === 'default' && endpoints.metadata.name === 'kubernetes',
    shouldSync(context, endpoints) {
      const service = context
        .virtualCache<V1Service>('Service')
        .get(endpoints.metadata?.name ?? '', endpoints.metadata?.namespace);
      return !!service && needsEndpointsSync(service);
    },

    async syncToHost(context, endpoints) {
      recheckLater(context, endpoints);
      if (refused(context, endpoints)) return 'skip';
      await context.host.core.createNamespacedEndpoints({
        namespace: context.translate.hostNamespace,
        body: endpointsToHost(endpoints, context.translate),
      });
      return 'create';
    },

    async sync(context, endpoints, hostEndpoints): Promise<SyncAction> {
      recheckLater(context, endpoints);
      // changed to point elsewhere, or its pod is gone: the copy made while it pointed at our pods goes
      if (refused(context, endpoints)) return deleteHostObject(context, hostEndpoints, deleteHost);
      const patch = endpointsUpdateToHost(endpoints, hostEndpoints, context.translate);
      if (!patch) return 'none';
      await context.host.core.patchNamespacedEndpoints(
        { name: hostEndpoints.metadata?.name ?? '', namespace: context.translate.hostNamespace, body: patch },
        mergePatch,
      );
      return 'update';
    },
  };
}
