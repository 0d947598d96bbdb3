import type { V1EndpointAddress, V1EndpointSubset, V1Endpoints } from '@kubernetes/client-node';
import type { TranslateContext } from './context.ts';
import { deepEqual } from './equal.ts';
import { hostMetadata, hostMetadataPatch, type MetadataPatch, requireVirtualKey } from './metadata.ts';
import { hostName } from './names.ts';

/** JSON merge patch of host endpoints. */
export interface EndpointsPatch {
  metadata?: MetadataPatch;
  subsets?: V1EndpointSubset[] | null;
}

function translateAddress(address: V1EndpointAddress, vNamespace: string, ctx: TranslateContext): void {
  const ref = address.targetRef;
  if (ref?.kind !== 'Pod' || !ref.name) return;
  // a pod target is known on the host under its host name; uid and version belong to the virtual pod
  ref.name = hostName(ref.name, ref.namespace || vNamespace, ctx.vclusterName);
  ref.namespace = ctx.hostNamespace;
  delete ref.uid;
  delete ref.resourceVersion;
}

function hostSubsets(
  vEp: V1Endpoints,
  vNamespace: string,
  ctx: TranslateContext,
): V1EndpointSubset[] | undefined {
  const subsets = structuredClone(vEp.subsets);
  for (const subset of subsets ?? []) {
    for (const address of [...(subset.addresses ?? []), ...(subset.notReadyAddresses ?? [])]) {
      translateAddress(address, vNamespace, ctx);
    }
  }
  return subsets;
}

/** Host Endpoints for the Endpoints of a selector-less virtual service (same host name as the service). */
export function endpointsToHost(vEp: V1Endpoints, ctx: TranslateContext): V1Endpoints {
  const key = requireVirtualKey(vEp, 'Endpoints');
  const out: V1Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: hostMetadata(vEp, ctx, 'Endpoints'),
  };
  const subsets = hostSubsets(vEp, key.namespace, ctx);
  if (subsets) out.subsets = subsets;
  return out;
}

/** The merge patch bringing host endpoints in line with the virtual ones, or undefined. */
export function endpointsUpdateToHost(
  vEp: V1Endpoints,
  hostEp: V1Endpoints,
  ctx: TranslateContext,
): EndpointsPatch | undefined {
  const key = requireVirtualKey(vEp, 'Endpoints');
  const patch: EndpointsPatch = {};
  const subsets = hostSubsets(vEp, key.namespace, ctx);
  if (!deepEqual(subsets ?? [], hostEp.subsets ?? [])) patch.subsets = subsets ?? null;
  const metadata = hostMetadataPatch(vEp, hostEp, ctx, 'Endpoints');
  if (metadata) patch.metadata = metadata;
  return patch.subsets !== undefined || patch.metadata ? patch : undefined;
}

/** Event reason of hand-written Endpoints the syncer does not copy. */
export const ENDPOINTS_NOT_SYNCED_REASON = 'EndpointsNotSynced';

/** Every address of the endpoints, ready or not. */
export function endpointsAddresses(vEp: V1Endpoints): string[] {
  return (vEp.subsets ?? []).flatMap((subset) =>
    [...(subset.addresses ?? []), ...(subset.notReadyAddresses ?? [])].map((address) => address.ip),
  );
}

/**
 * Why hand-written endpoints must not reach the host, in words for their owner; undefined when they
 * may. On the host they would send the service's traffic wherever they point, so they are copied only
 * when every address is the IP of one of this virtual cluster's own pods (`podIPs`).
 */
export function endpointsRefusal(vEp: V1Endpoints, podIPs: ReadonlySet<string>): string | undefined {
  const foreign = [...new Set(endpointsAddresses(vEp).filter((ip) => !podIPs.has(ip)))];
  if (foreign.length === 0) return undefined;
  const shown =
    foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : '');
  return (
    `Endpoints not synced to the host cluster: ${foreign.length === 1 ? 'address' : 'addresses'} ${shown} ` +
    `${foreign.length === 1 ? 'is' : 'are'} not the IP of a pod of this preview. Hand-written endpoints may ` +
    'only point at the preview’s own pods; give the service a selector, or list only your pods’ IPs.'
  );
}
