import type {
  V1PersistentVolumeClaim,
  V1PersistentVolumeClaimSpec,
  V1PersistentVolumeClaimStatus,
  V1TypedLocalObjectReference,
  V1TypedObjectReference,
} from '@kubernetes/client-node';
import type { TranslateContext } from './context.ts';
import { deepEqual, type MapPatch, mapPatch } from './equal.ts';
import {
  hostLabelSelector,
  hostMetadata,
  hostMetadataPatch,
  type MetadataPatch,
  requireVirtualKey,
} from './metadata.ts';
import { hostName, hostNameClusterScoped } from './names.ts';

/** On a virtual PVC: copy spec references (volumeName, selector, dataSource) untranslated. */
export const SKIP_TRANSLATE_ANNOTATION = 'vcluster.loft.sh/skip-translate';

/**
 * Annotations the host's PV controller and scheduler write on a claim. They flow up to the virtual
 * claim and are never pushed down, so the two sides cannot fight over them.
 */
export const PVC_BIND_ANNOTATIONS: readonly string[] = [
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'volume.kubernetes.io/storage-provisioner',
  'volume.beta.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/selected-node',
];

/**
 * How persistent volumes appear in the virtual cluster. `fake` (vcluster's default): the virtual
 * cluster shows fake PVs named like the host PVs, so volume names and PV selectors are host names and
 * pass through. `synced`: virtual PVs are copied to the host under translated names.
 */
export type PersistentVolumeMode = 'fake' | 'synced';

export interface PvcOptions {
  persistentVolumes?: PersistentVolumeMode;
}

/** JSON merge patch of a host PVC. */
export interface PvcPatch {
  metadata?: MetadataPatch;
  spec?: Pick<V1PersistentVolumeClaimSpec, 'resources'> & { volumeAttributesClassName?: string | null };
}

/** Changes for the virtual PVC learnt from the host: its volume and the binding annotations. */
export interface PvcVirtualUpdate {
  volumeName?: string;
  annotations?: MapPatch;
}

const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';

function translatableSource(ref: V1TypedLocalObjectReference | V1TypedObjectReference): boolean {
  if (ref.kind === 'PersistentVolumeClaim') return !ref.apiGroup;
  if (ref.kind === 'VolumeSnapshot') return ref.apiGroup === SNAPSHOT_GROUP;
  return false;
}

/** What of a virtual PVC stays off its host claim (pure): the volume it names and its PV selector, unless they are this cluster's own synced PVs. */
export function droppedVolumeBinding(vPvc: V1PersistentVolumeClaim, options: PvcOptions = {}): string[] {
  const translated = vPvc.metadata?.annotations?.[SKIP_TRANSLATE_ANNOTATION] !== 'true';
  if (translated && options.persistentVolumes === 'synced') return [];
  return [...(vPvc.spec?.volumeName ? ['volumeName'] : []), ...(vPvc.spec?.selector ? ['selector'] : [])];
}

/** The host PVC for a virtual PVC. */
export function pvcToHost(
  vPvc: V1PersistentVolumeClaim,
  ctx: TranslateContext,
  options: PvcOptions = {},
): V1PersistentVolumeClaim {
  const key = requireVirtualKey(vPvc, 'PersistentVolumeClaim');
  const spec: V1PersistentVolumeClaimSpec = structuredClone(vPvc.spec) ?? {};
  const metadata = hostMetadata(vPvc, ctx, 'PersistentVolumeClaim', {
    excludedAnnotations: PVC_BIND_ANNOTATIONS,
  });
  const translated = vPvc.metadata?.annotations?.[SKIP_TRANSLATE_ANNOTATION] !== 'true';
  // Host PVs are the operator's and every preview's: a claim binds what the host gives it, never a
  // volume it names (another preview's released disk) nor one it picks by labels. Only this virtual
  // cluster's own synced PVs may be named.
  if (!translated || options.persistentVolumes !== 'synced') {
    delete spec.volumeName;
    delete spec.selector;
  }
  if (translated) {
    if (options.persistentVolumes === 'synced') {
      const selector = hostLabelSelector(spec.selector, ctx);
      if (selector) spec.selector = selector;
      if (spec.volumeName)
        spec.volumeName = hostNameClusterScoped(spec.volumeName, ctx.hostNamespace, ctx.vclusterName);
    }
    if (spec.dataSource && translatableSource(spec.dataSource)) {
      spec.dataSource.name = hostName(spec.dataSource.name, key.namespace, ctx.vclusterName);
    }
    if (spec.dataSourceRef && translatableSource(spec.dataSourceRef)) {
      const ns = spec.dataSourceRef.namespace || key.namespace;
      spec.dataSourceRef.name = hostName(spec.dataSourceRef.name, ns, ctx.vclusterName);
      // every virtual namespace lives in the one host namespace
      delete spec.dataSourceRef.namespace;
    }
  }
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec };
}

/**
 * The merge patch bringing a host PVC in line with its virtual PVC: only the requested size (volume
 * expansion), the volume attributes class and metadata can change after creation.
 */
export function pvcUpdateToHost(
  vPvc: V1PersistentVolumeClaim,
  hostPvc: V1PersistentVolumeClaim,
  ctx: TranslateContext,
): PvcPatch | undefined {
  const patch: PvcPatch = {};
  const spec: NonNullable<PvcPatch['spec']> = {};
  const vRequests = vPvc.spec?.resources?.requests;
  if (vRequests && !deepEqual(vRequests, hostPvc.spec?.resources?.requests)) {
    spec.resources = { requests: structuredClone(vRequests) };
  }
  const vClass = vPvc.spec?.volumeAttributesClassName;
  if (vClass !== hostPvc.spec?.volumeAttributesClassName) spec.volumeAttributesClassName = vClass ?? null;
  if (Object.keys(spec).length > 0) patch.spec = spec;
  const metadata = hostMetadataPatch(vPvc, hostPvc, ctx, 'PersistentVolumeClaim', {
    excludedAnnotations: PVC_BIND_ANNOTATIONS,
  });
  if (metadata) patch.metadata = metadata;
  return patch.spec || patch.metadata ? patch : undefined;
}

/** Status for the virtual PVC: the host's (phase, capacity, access modes, conditions). */
export function pvcStatusToVirtual(
  hostPvc: V1PersistentVolumeClaim,
  vPvc: V1PersistentVolumeClaim,
): V1PersistentVolumeClaimStatus | undefined {
  if (!hostPvc.status) return undefined;
  return deepEqual(hostPvc.status, vPvc.status) ? undefined : structuredClone(hostPvc.status);
}

/**
 * Binding facts to copy up: with fake PVs the virtual claim binds to a fake PV named like the host's
 * volume; the binding annotations follow the host's. Undefined when the virtual claim already has them.
 */
export function pvcUpdateToVirtual(
  hostPvc: V1PersistentVolumeClaim,
  vPvc: V1PersistentVolumeClaim,
  options: PvcOptions = {},
): PvcVirtualUpdate | undefined {
  const update: PvcVirtualUpdate = {};
  const hostVolume = hostPvc.spec?.volumeName;
  if ((options.persistentVolumes ?? 'fake') === 'fake' && hostVolume && !vPvc.spec?.volumeName) {
    update.volumeName = hostVolume;
  }
  const pick = (annotations: Record<string, string> | undefined) => {
    const out: Record<string, string> = {};
    for (const key of PVC_BIND_ANNOTATIONS) {
      const value = annotations?.[key];
      if (value !== undefined) out[key] = value;
    }
    return out;
  };
  const annotations = mapPatch(pick(vPvc.metadata?.annotations), pick(hostPvc.metadata?.annotations));
  if (annotations) update.annotations = annotations;
  return Object.keys(update).length > 0 ? update : undefined;
}
