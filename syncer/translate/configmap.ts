import type { V1ConfigMap } from '@kubernetes/client-node';
import type { TranslateContext } from './context.ts';
import { deepEqual, type MapPatch, mapPatch } from './equal.ts';
import { hostMetadata, hostMetadataPatch, type MetadataPatch, requireVirtualKey } from './metadata.ts';
import { hostName } from './names.ts';

/** JSON merge patch of a host configmap. */
export interface ConfigMapPatch {
  metadata?: MetadataPatch;
  data?: MapPatch;
  binaryData?: MapPatch;
  immutable?: boolean;
}

/**
 * Host name of a virtual configmap. `kube-root-ca.crt` gets no special name: in single-namespace mode
 * vcluster maps it like any configmap (`kube-root-ca.crt-x-<ns>-x-<vc>`), which also keeps it apart from
 * the host namespace's own `kube-root-ca.crt`. vcluster's `vcluster-kube-root-ca.crt-x-<vc>` is only
 * used when virtual namespaces map to host namespaces of the same name.
 */
export function configMapHostName(name: string, vNamespace: string, ctx: TranslateContext): string {
  return hostName(name, vNamespace, ctx.vclusterName);
}

/** The host configmap for a virtual configmap. */
export function configMapToHost(vCm: V1ConfigMap, ctx: TranslateContext): V1ConfigMap {
  requireVirtualKey(vCm, 'ConfigMap');
  const out: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: hostMetadata(vCm, ctx, 'ConfigMap'),
  };
  if (vCm.data) out.data = structuredClone(vCm.data);
  if (vCm.binaryData) out.binaryData = structuredClone(vCm.binaryData);
  if (vCm.immutable !== undefined) out.immutable = vCm.immutable;
  return out;
}

/**
 * An immutable host configmap cannot take new data (nor become mutable again): it has to be deleted
 * and created anew.
 */
export function configMapNeedsRecreate(vCm: V1ConfigMap, hostCm: V1ConfigMap): boolean {
  if (hostCm.immutable !== true) return false;
  return (
    vCm.immutable !== true ||
    !deepEqual(vCm.data ?? {}, hostCm.data ?? {}) ||
    !deepEqual(vCm.binaryData ?? {}, hostCm.binaryData ?? {})
  );
}

/** The merge patch bringing a host configmap in line with its virtual configmap, or undefined. */
export function configMapUpdateToHost(
  vCm: V1ConfigMap,
  hostCm: V1ConfigMap,
  ctx: TranslateContext,
): ConfigMapPatch | undefined {
  const patch: ConfigMapPatch = {};
  const data = mapPatch(hostCm.data, vCm.data);
  if (data) patch.data = data;
  const binaryData = mapPatch(hostCm.binaryData, vCm.binaryData);
  if (binaryData) patch.binaryData = binaryData;
  if (vCm.immutable === true && hostCm.immutable !== true) patch.immutable = true;
  const metadata = hostMetadataPatch(vCm, hostCm, ctx, 'ConfigMap');
  if (metadata) patch.metadata = metadata;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
