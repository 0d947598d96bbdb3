import type { V1Service, V1ServicePort, V1ServiceSpec, V1ServiceStatus } from '@kubernetes/client-node';
import type { TranslateContext } from './context.ts';
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
  const ports = withoutNodePorts(spec.ports);
  if (ports) spec.ports = ports;
  return { apiVersion: 'v1', kind: 'Service', metadata: hostMetadata(vSvc, ctx, 'Service'), spec };
}

// Spec fields a service owner may change; compared one by one so host-allocated fields stay alone.
const MUTABLE_FIELDS = [
  'type',
  'externalName',
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
  const key = requireVirtualKey(vSvc, 'Service');
  const vSpec = vSvc.spec ?? {};
  const hSpec = hostSvc.spec ?? {};
  const spec: Nullable<V1ServiceSpec> = {};

  // node ports differ by design (each side allocates its own); compare the rest of each port
  const vPorts = withoutNodePorts(vSpec.ports);
  if (!deepEqual(vPorts, withoutNodePorts(hSpec.ports))) spec.ports = vPorts ?? null;

  for (const field of MUTABLE_FIELDS) {
    if (!deepEqual(vSpec[field], hSpec[field])) {
      (spec as Record<string, unknown>)[field] = structuredClone(vSpec[field]) ?? null;
    }
  }

  const selector = hostSelector(vSpec.selector, key.namespace, ctx);
  if (!deepEqual(selector, hSpec.selector)) spec.selector = selector ?? null;

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
