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
