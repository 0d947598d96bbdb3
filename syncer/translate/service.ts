import type { V1Service, V1ServicePort, V1ServiceSpec, V1ServiceStatus } from '@kubernetes/client-node';
import type { ExposingServiceType, TranslateContext } from './context.ts';
import { deepEqual, type Nullable } from './equal.ts';
import {
  hostMetadata,
  hostMetadataPatch,
  hostSelector,
  type MetadataPatch,
  requireVirtualKey,
} from './metadata.ts';

/** JSON merge patch of a host service. */
export interface ServicePatch {
  metadata?: MetadataPatch;
  spec?: Nullable<V1ServiceSpec>;
}

function withoutNodePorts(ports: V1ServicePort[] | undefined): V1ServicePort[] | undefined {
  return ports?.map((p) => {
    const { nodePort: _nodePort, ...rest } = structuredClone(p);
    return rest;
  });
}

function hasSelector(svc: V1Service): boolean {
  return Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** Event reasons of services and endpoints the syncer refuses or changes on their way to the host. */
export const SERVICE_NOT_SYNCED_REASON = 'ServiceNotSynced';
export const SERVICE_TYPE_CHANGED_REASON = 'ServiceTypeChanged';

/**
 * Why a virtual service must not reach the host at all, in words for its owner; undefined when it may.
 * An ExternalName service on the host is a DNS alias inside the shared cluster: it would let a preview
 * point names at any address, other tenants' services included, so it is never copied.
 */
export function serviceRefusal(vSvc: V1Service): string | undefined {
  if (vSvc.spec?.type !== 'ExternalName') return undefined;
  const target = vSvc.spec.externalName ? ` (${vSvc.spec.externalName})` : '';
  return (
    `Service of type ExternalName${target} is not synced to the host cluster: previews may not create DNS aliases ` +
    'in the shared cluster. Inside the preview the name still resolves; pods that need the outside address ' +
    'should use it directly, or use a selector-less Service with Endpoints of your own pods.'
  );
}

function allowedOnHost(type: string, ctx: TranslateContext): boolean {
  if (type === 'ClusterIP') return true;
  return (ctx.allowedServiceTypes ?? []).includes(type as ExposingServiceType);
}

/**
 * When the operator does not allow the virtual service's type (NodePort, LoadBalancer) on the host,
 * the message saying it is synced as ClusterIP instead; undefined when its type goes down unchanged.
 */
export function serviceTypeChange(vSvc: V1Service, ctx: TranslateContext): string | undefined {
  const type = vSvc.spec?.type;
  if (!type || type === 'ExternalName' || allowedOnHost(type, ctx)) return undefined;
  const allowed = ctx.allowedServiceTypes?.length
    ? `only ${['ClusterIP', ...ctx.allowedServiceTypes].join(', ')} are allowed`
    : 'only ClusterIP is allowed';
  return (
    `Service type ${type} is not allowed on the host cluster (${allowed} by the operator): ` +
    'synced as ClusterIP, without node ports or a load balancer. It is reachable inside the preview ' +
    'and through its ingress; ask the operator to allow the type if it must be exposed directly.'
  );
}

/** Drops what only a NodePort or LoadBalancer service may carry, for a service synced as ClusterIP. */
function asClusterIP(spec: V1ServiceSpec): void {
  spec.type = 'ClusterIP';
  delete spec.externalTrafficPolicy;
  delete spec.loadBalancerIP;
  delete spec.loadBalancerSourceRanges;
  delete spec.loadBalancerClass;
  delete spec.allocateLoadBalancerNodePorts;
}

/**
 * The host service for a virtual service. The host allocates its own cluster IP, IP families and
 * node ports (the virtual ones were allocated by the virtual API server and may be taken or invalid on
 * the host); the virtual service is then aligned with the host's cluster IP.
 */
export function serviceToHost(vSvc: V1Service, ctx: TranslateContext): V1Service {
  const key = requireVirtualKey(vSvc, 'Service');
  const spec: V1ServiceSpec = structuredClone(vSvc.spec) ?? {};
  const selector = hostSelector(spec.selector, key.namespace, ctx);
  if (selector) spec.selector = selector;
  else delete spec.selector;
  if (spec.clusterIP !== 'None') delete spec.clusterIP;
  delete spec.clusterIPs;
  delete spec.ipFamilies;
  delete spec.ipFamilyPolicy;
  // like node ports, the health check port is allocated by the host
  delete spec.healthCheckNodePort;
  // external IPs would let a preview claim traffic for arbitrary addresses (CVE-2020-8554): never copied
  delete spec.externalIPs;
  // never on the host: ExternalName services are not synced at all (serviceRefusal)
  delete spec.externalName;
  if (spec.type && !allowedOnHost(spec.type, ctx)) asClusterIP(spec);
  const ports = withoutNodePorts(spec.ports);
  if (ports) spec.ports = ports;
  return { apiVersion: 'v1', kind: 'Service', metadata: hostMetadata(vSvc, ctx, 'Service'), spec };
}

// Spec fields a service owner may change; compared one by one so host-allocated fields stay alone.
const MUTABLE_FIELDS = [
  'type',
  'externalTrafficPolicy',
  'internalTrafficPolicy',
  'sessionAffinity',
  'sessionAffinityConfig',
  'loadBalancerSourceRanges',
  'loadBalancerClass',
  'publishNotReadyAddresses',
  'allocateLoadBalancerNodePorts',
  'trafficDistribution',
] as const satisfies readonly (keyof V1ServiceSpec)[];

/** The merge patch bringing a host service in line with its virtual service, or undefined. */
export function serviceUpdateToHost(
  vSvc: V1Service,
  hostSvc: V1Service,
  ctx: TranslateContext,
): ServicePatch | undefined {
  // what the host should hold (type held to the operator's allowlist), compared field by field
  const desired = serviceToHost(vSvc, ctx).spec ?? {};
  const hSpec = hostSvc.spec ?? {};
  const spec: Nullable<V1ServiceSpec> = {};

  // node ports differ by design (each side allocates its own); compare the rest of each port
  if (!deepEqual(desired.ports, withoutNodePorts(hSpec.ports))) spec.ports = desired.ports ?? null;

  for (const field of MUTABLE_FIELDS) {
    if (!deepEqual(desired[field], hSpec[field])) {
      (spec as Record<string, unknown>)[field] = structuredClone(desired[field]) ?? null;
    }
  }

  if (!deepEqual(desired.selector, hSpec.selector)) spec.selector = desired.selector ?? null;

  const patch: ServicePatch = {};
  if (Object.keys(spec).length > 0) patch.spec = spec;
  const metadata = hostMetadataPatch(vSvc, hostSvc, ctx, 'Service');
  if (metadata) patch.metadata = metadata;
  return patch.spec || patch.metadata ? patch : undefined;
}

function normalizedLoadBalancer(status: V1ServiceStatus | undefined) {
  const lb = status?.loadBalancer;
  return lb?.ingress?.length ? lb : {};
}

/** Status for the virtual service: the host's load-balancer status. Undefined when already shown. */
export function serviceStatusToVirtual(hostSvc: V1Service, vSvc: V1Service): V1ServiceStatus | undefined {
  const loadBalancer = structuredClone(normalizedLoadBalancer(hostSvc.status));
  if (deepEqual(loadBalancer, normalizedLoadBalancer(vSvc.status))) return undefined;
  return { ...structuredClone(vSvc.status ?? {}), loadBalancer };
}

/**
 * The virtual service must carry the host's cluster IP (pods reach services through the host). When
 * both have one and they differ, the virtual service has to be recreated with the host's IP.
 */
export function serviceClusterIPMismatch(hostSvc: V1Service, vSvc: V1Service): boolean {
  const h = hostSvc.spec?.clusterIP;
  const v = vSvc.spec?.clusterIP;
  return !!h && !!v && h !== v;
}

/**
 * Ports for the virtual service carrying the node ports the host allocated, so users see the ports
 * that actually work. Undefined when nothing is to change or the ports differ in more than node ports.
 */
export function serviceNodePortsToVirtual(hostSvc: V1Service, vSvc: V1Service): V1ServicePort[] | undefined {
  const h = hostSvc.spec;
  const v = vSvc.spec;
  if (!h?.ports || h.type !== v?.type) return undefined;
  if (!deepEqual(withoutNodePorts(h.ports), withoutNodePorts(v?.ports))) return undefined;
  if (deepEqual(h.ports, v?.ports)) return undefined;
  return structuredClone(h.ports);
}

/**
 * Whether the syncer must copy the service's Endpoints: only for services without a selector, whose
 * endpoints someone maintains by hand. The host's endpoints controller serves selector services, and
 * ExternalName services have none.
 */
export function needsEndpointsSync(vSvc: V1Service): boolean {
  return vSvc.spec?.type !== 'ExternalName' && !hasSelector(vSvc);
}
