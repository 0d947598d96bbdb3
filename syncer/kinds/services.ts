import type { V1Service } from '@kubernetes/client-node';
import { statusCodeOf } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import type { ResourceSyncer, SyncAction, SyncContext } from '../engine/resource-syncer.ts';
import {
  SERVICE_NOT_SYNCED_REASON,
  SERVICE_TYPE_CHANGED_REASON,
  serviceClusterIPMismatch,
  serviceNodePortsToVirtual,
  serviceRefusal,
  serviceStatusToVirtual,
  serviceToHost,
  serviceTypeChange,
  serviceUpdateToHost,
} from '../translate/service.ts';

const withKind = (service: V1Service): V1Service => ({ ...service, kind: 'Service', apiVersion: 'v1' });

/** Tells the owner, on the virtual service, that its type was changed on the way to the host. */
function reportTypeChange(context: SyncContext, service: V1Service): void {
  const message = serviceTypeChange(service, context.translate);
  // the recorder writes the same message once a minute at most
  if (message) void context.recorder.warning(withKind(service), SERVICE_TYPE_CHANGED_REASON, message);
}

/**
 * Services: down with selectors translated; the virtual service ends up with its host twin's
 * ClusterIP (both API servers share one service range), load-balancer status and node ports up.
 */
export function serviceSyncer(): ResourceSyncer<V1Service> {
  return {
    kind: 'Service',
    apiVersion: 'v1',
    // Like vcluster: a service keeps its host twin when recreated, it is not deleted for a new uid.
    recreateOnUidChange: false,
    resource: 'services',
    listVirtual: (virtual) => virtual.core.listServiceForAllNamespaces(),
    listHost: (host, query) => host.core.listNamespacedService(query),
    deleteHost: (host, request) => host.core.deleteNamespacedService(request),
    // The virtual API server's own service points at the virtual API server, not at a host pod.
    ignoreVirtual: (service) =>
      service.metadata?.namespace === 'default' && service.metadata.name === 'kubernetes',
    // ExternalName never reaches the host (a twin already there is deleted); the owner is told why.
    shouldSync(context, service) {
      const refusal = serviceRefusal(service);
      if (!refusal) return true;
      void context.recorder.warning(withKind(service), SERVICE_NOT_SYNCED_REASON, refusal);
      return false;
    },
    onVirtualEvent(context, service) {
      context.enqueue('Endpoints', `${service.metadata?.namespace}/${service.metadata?.name}`);
    },

    async syncToHost(context, service) {
      reportTypeChange(context, service);
      const hostService = serviceToHost(service, context.translate);
      const ip = service.spec?.clusterIP;
      if (ip && ip !== 'None' && hostService.spec) {
        // Ask the host for the IP the virtual API server already gave out: usually free, and then
        // the virtual service needs no recreate.
        try {
          await createHostService(context, {
            ...hostService,
            spec: { ...hostService.spec, clusterIP: ip, clusterIPs: [ip] },
          });
          return 'create';
        } catch (error) {
          if (statusCodeOf(error) !== 422) throw error;
        }
      }
      await createHostService(context, hostService);
      return 'create';
    },

    async sync(context, service, hostService) {
      if (serviceClusterIPMismatch(hostService, service)) {
        await recreateVirtualWithHostIP(context, service, hostService);
        return 'update';
      }
      const { virtual, host, translate } = context;
      const name = service.metadata?.name ?? '';
      const namespace = service.metadata?.namespace ?? '';
      let action: SyncAction = 'none';
      const patch = serviceUpdateToHost(service, hostService, translate);
      if (patch) {
        if (patch.spec?.type) reportTypeChange(context, service);
        await host.core.patchNamespacedService(
          { name: hostService.metadata?.name ?? '', namespace: translate.hostNamespace, body: patch },
          mergePatch,
        );
        action = 'update';
      }
      const ports = serviceNodePortsToVirtual(hostService, service);
      if (ports) {
        await virtual.core.patchNamespacedService({ name, namespace, body: { spec: { ports } } }, mergePatch);
        action = 'update';
      }
      const status = serviceStatusToVirtual(hostService, service);
      if (status) {
        await virtual.core.patchNamespacedServiceStatus({ name, namespace, body: { status } }, mergePatch);
        action = action === 'none' ? 'status' : action;
      }
      return action;
    },
  };
}

function createHostService(context: SyncContext, body: V1Service): Promise<V1Service> {
  return context.host.core.createNamespacedService({ namespace: context.translate.hostNamespace, body });
}

/**
 * A ClusterIP cannot be changed in place: the virtual service is deleted and created again with
 * the host's IP, everything else kept.
 */
async function recreateVirtualWithHostIP(context: SyncContext, service: V1Service, hostService: V1Service) {
  const name = service.metadata?.name ?? '';
  const namespace = service.metadata?.namespace ?? '';
  const ip = hostService.spec?.clusterIP ?? '';
  context.logger.info(
    { service: `${namespace}/${name}`, ip },
    'recreating virtual service with the host ClusterIP',
  );
  await context.virtual.core.deleteNamespacedService({
    name,
    namespace,
    body: { preconditions: { uid: service.metadata?.uid } },
  });
  const {
    uid: _uid,
    resourceVersion: _rv,
    creationTimestamp: _ct,
    managedFields: _mf,
    ...metadata
  } = service.metadata ?? {};
  await context.virtual.core.createNamespacedService({
    namespace,
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: { ...service.spec, clusterIP: ip, clusterIPs: [ip] },
    },
  });
}
