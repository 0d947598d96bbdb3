import type { V1LabelSelector, V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { isFencedAnnotation } from './annotation-fence.ts';
import type { TranslateContext } from './context.ts';
import { type MapPatch, mapPatch } from './equal.ts';
import { hostName, safeConcatName, sha256Hex } from './names.ts';

// Annotations vcluster puts on every host object; together they name the virtual original.
export const NAME_ANNOTATION = 'vcluster.loft.sh/object-name';
export const NAMESPACE_ANNOTATION = 'vcluster.loft.sh/object-namespace';
export const UID_ANNOTATION = 'vcluster.loft.sh/object-uid';
export const KIND_ANNOTATION = 'vcluster.loft.sh/object-kind';
export const HOST_NAME_ANNOTATION = 'vcluster.loft.sh/object-host-name';
export const HOST_NAMESPACE_ANNOTATION = 'vcluster.loft.sh/object-host-namespace';
/** Newline-separated, sorted keys the syncer set, so keys added on the host are left alone. */
export const MANAGED_ANNOTATIONS_ANNOTATION = 'vcluster.loft.sh/managed-annotations';
export const MANAGED_LABELS_ANNOTATION = 'vcluster.loft.sh/managed-labels';
/** On a virtual ConfigMap/Secret: sync it even when no pod or ingress uses it. */
export const FORCE_SYNC_ANNOTATION = 'vcluster.loft.sh/force-sync';

export const MARKER_LABEL = 'vcluster.loft.sh/managed-by';
export const NAMESPACE_LABEL = 'vcluster.loft.sh/namespace';
export const CONTROLLER_LABEL = 'vcluster.loft.sh/controlled-by';
export const RELEASE_LABEL = 'release';
export const LABEL_PREFIX = 'vcluster.loft.sh/label';
export const NAMESPACE_LABEL_PREFIX = 'vcluster.loft.sh/ns-label';

/**
 * User labels that would collide with the syncer's own marks or with the chart's `release` selectors;
 * they are renamed on the host instead of copied.
 */
export const LABELS_TO_TRANSLATE: readonly string[] = [
  RELEASE_LABEL,
  NAMESPACE_LABEL,
  MARKER_LABEL,
  CONTROLLER_LABEL,
];

const SYSTEM_ANNOTATIONS: readonly string[] = [
  NAME_ANNOTATION,
  NAMESPACE_ANNOTATION,
  UID_ANNOTATION,
  KIND_ANNOTATION,
  HOST_NAME_ANNOTATION,
  HOST_NAMESPACE_ANNOTATION,
  MANAGED_ANNOTATIONS_ANNOTATION,
  MANAGED_LABELS_ANNOTATION,
];

/** The namespaced kinds the syncer copies to the host. */
export type SyncedKind =
  | 'Pod'
  | 'Service'
  | 'Endpoints'
  | 'ConfigMap'
  | 'Secret'
  | 'PersistentVolumeClaim'
  | 'Ingress';

/** Value of the object-kind annotation: Go's GroupVersionKind.String(), as vcluster writes it. */
export const KIND_ANNOTATION_VALUES: Readonly<Record<SyncedKind, string>> = {
  Pod: '/v1, Kind=Pod',
  Service: '/v1, Kind=Service',
  Endpoints: '/v1, Kind=Endpoints',
  ConfigMap: '/v1, Kind=ConfigMap',
  Secret: '/v1, Kind=Secret',
  PersistentVolumeClaim: '/v1, Kind=PersistentVolumeClaim',
  Ingress: 'networking.k8s.io/v1, Kind=Ingress',
};

export interface ObjectWithMeta {
  metadata?: V1ObjectMeta;
}

export interface VirtualKey {
  namespace: string;
  name: string;
}

/** A virtual object cannot be translated (missing name or namespace). */
export class TranslateError extends Error {
  override name = 'TranslateError';
}

/** Namespace and name of a virtual object, or a TranslateError saying which one is missing. */
export function requireVirtualKey(obj: ObjectWithMeta, kind: string): VirtualKey {
  const name = obj.metadata?.name;
  const namespace = obj.metadata?.namespace;
  if (!name || !namespace) {
    throw new TranslateError(
      `virtual ${kind} ${namespace ?? '?'}/${name ?? '?'} has no ${name ? 'namespace' : 'name'}: ` +
        'only named, namespaced objects read from the virtual API server can be synced',
    );
  }
  return { namespace, name };
}

function hashedKey(prefix: string, key: string, ctx: TranslateContext): string {
  return safeConcatName(prefix, ctx.vclusterName, 'x', sha256Hex(key).slice(0, 10));
}

/** `vcluster.loft.sh/label-<vc>-x-<sha256(key)[:10]>`: the renamed form of a reserved label key. */
export function translatedLabelKey(key: string, ctx: TranslateContext): string {
  return hashedKey(LABEL_PREFIX, key, ctx);
}

/** Host key of a virtual label: reserved keys are renamed, all others are copied as they are. */
export function hostLabelKey(key: string, ctx: TranslateContext): string {
  return LABELS_TO_TRANSLATE.includes(key) ? translatedLabelKey(key, ctx) : key;
}

/** Host label key carrying a label of the pod's virtual namespace (for namespaceSelector terms). */
export function hostNamespaceLabelKey(key: string, ctx: TranslateContext): string {
  return hashedKey(NAMESPACE_LABEL_PREFIX, key, ctx);
}

function isTranslatedKey(key: string, ctx: TranslateContext): boolean {
  return LABELS_TO_TRANSLATE.some((k) => translatedLabelKey(k, ctx) === key);
}

/** User labels as they appear on the host, without the syncer's marks. */
function userHostLabels(
  vLabels: Record<string, string> | undefined,
  ctx: TranslateContext,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(vLabels ?? {})) {
    // a virtual label already in translated form could spoof a reserved label: drop it, like vcluster
    if (isTranslatedKey(key, ctx)) continue;
    out[hostLabelKey(key, ctx)] = value;
  }
  return out;
}

/** Host labels of a virtual object: user labels (reserved keys renamed) plus managed-by and namespace. */
export function hostLabels(
  vLabels: Record<string, string> | undefined,
  vNamespace: string,
  ctx: TranslateContext,
): Record<string, string> {
  return { ...userHostLabels(vLabels, ctx), [MARKER_LABEL]: ctx.vclusterName, [NAMESPACE_LABEL]: vNamespace };
}

/**
 * Host form of a map selector (Service.spec.selector): keys translated like labels, plus managed-by and
 * namespace so it only matches this vcluster's pods of that namespace. No (or an empty) selector stays
 * undefined: a selector-less service must stay selector-less.
 */
export function hostSelector(
  selector: Record<string, string> | undefined,
  vNamespace: string,
  ctx: TranslateContext,
): Record<string, string> | undefined {
  if (!selector || Object.keys(selector).length === 0) return undefined;
  return hostLabels(selector, vNamespace, ctx);
}

function mapSelectorKeys(
  selector: V1LabelSelector | undefined,
  keyOf: (key: string) => string,
): V1LabelSelector | undefined {
  if (!selector) return undefined;
  const out: V1LabelSelector = {};
  if (selector.matchLabels) {
    out.matchLabels = {};
    for (const [key, value] of Object.entries(selector.matchLabels)) out.matchLabels[keyOf(key)] = value;
  }
  if (selector.matchExpressions) {
    out.matchExpressions = selector.matchExpressions.map((req) => ({
      ...structuredClone(req),
      key: keyOf(req.key),
    }));
  }
  return out;
}

/** Host form of a LabelSelector (affinity, PVC selector): keys translated, no marks added. */
export function hostLabelSelector(
  selector: V1LabelSelector | undefined,
  ctx: TranslateContext,
): V1LabelSelector | undefined {
  return mapSelectorKeys(selector, (key) => hostLabelKey(key, ctx));
}

/** Host form of a namespaceSelector: keys become the namespace-label keys pods carry on the host. */
export function hostNamespaceLabelSelector(
  selector: V1LabelSelector | undefined,
  ctx: TranslateContext,
): V1LabelSelector | undefined {
  return mapSelectorKeys(selector, (key) => hostNamespaceLabelKey(key, ctx));
}

export interface HostMetadataOptions {
  /** Current host metadata: keys someone added on the host (not in the managed lists) are kept. */
  existing?: V1ObjectMeta;
  /** Annotations the syncer sets besides the object marks (e.g. a pod's downward-API annotations). */
  extraAnnotations?: Record<string, string>;
  /** Labels the syncer sets besides the user labels (e.g. a pod's namespace labels). */
  extraLabels?: Record<string, string>;
  /** Virtual annotation keys never copied to the host (host values of these keys are kept). */
  excludedAnnotations?: readonly string[];
}

function managedKeys(meta: V1ObjectMeta | undefined, annotation: string): Set<string> {
  const value = meta?.annotations?.[annotation];
  return new Set(value ? value.split('\n') : []);
}

/**
 * Host metadata of a virtual object: translated name in the host namespace, user labels and
 * annotations, the syncer's marks, and lists of the keys it owns. Never mutates its inputs.
 */
export function hostMetadata(
  vObj: ObjectWithMeta,
  ctx: TranslateContext,
  kind: SyncedKind,
  options: HostMetadataOptions = {},
): V1ObjectMeta {
  const key = requireVirtualKey(vObj, kind);
  const name = hostName(key.name, key.namespace, ctx.vclusterName);
  const existing = options.existing;
  const extraAnnotations = options.extraAnnotations ?? {};
  const extraLabels = options.extraLabels ?? {};
  const excluded = new Set([...SYSTEM_ANNOTATIONS, ...(options.excludedAnnotations ?? [])]);

  const userAnnotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(vObj.metadata?.annotations ?? {})) {
    if (!excluded.has(k) && !(k in extraAnnotations) && !isFencedAnnotation(k, ctx.allowedAnnotations))
      userAnnotations[k] = v;
  }
  const ownedAnnotations = Object.keys({ ...userAnnotations, ...extraAnnotations }).sort();

  // keep what others added on the host: everything the syncer did not set last time
  const previousAnnotations = managedKeys(existing, MANAGED_ANNOTATIONS_ANNOTATION);
  const keptAnnotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(existing?.annotations ?? {})) {
    if (!SYSTEM_ANNOTATIONS.includes(k) && !previousAnnotations.has(k)) keptAnnotations[k] = v;
  }

  const userLabels = { ...userHostLabels(vObj.metadata?.labels, ctx), ...extraLabels };
  const ownedLabels = Object.keys(userLabels).sort();
  const previousLabels = managedKeys(existing, MANAGED_LABELS_ANNOTATION);
  const keptLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(existing?.labels ?? {})) {
    if (!previousLabels.has(k)) keptLabels[k] = v;
  }

  const annotations: Record<string, string> = {
    ...keptAnnotations,
    ...userAnnotations,
    ...extraAnnotations,
    [NAME_ANNOTATION]: key.name,
    [NAMESPACE_ANNOTATION]: key.namespace,
    [UID_ANNOTATION]: vObj.metadata?.uid ?? '',
    [KIND_ANNOTATION]: KIND_ANNOTATION_VALUES[kind],
    [HOST_NAME_ANNOTATION]: name,
    [HOST_NAMESPACE_ANNOTATION]: ctx.hostNamespace,
  };
  if (ownedAnnotations.length > 0) annotations[MANAGED_ANNOTATIONS_ANNOTATION] = ownedAnnotations.join('\n');
  if (ownedLabels.length > 0) annotations[MANAGED_LABELS_ANNOTATION] = ownedLabels.join('\n');

  const meta: V1ObjectMeta = {
    name,
    namespace: ctx.hostNamespace,
    labels: {
      ...keptLabels,
      ...userLabels,
      [MARKER_LABEL]: ctx.vclusterName,
      [NAMESPACE_LABEL]: key.namespace,
    },
    annotations,
  };
  if (ctx.owner) {
    const owner: V1OwnerReference = { ...ctx.owner, controller: false };
    meta.ownerReferences = [owner];
  }
  return meta;
}

/** Merge patch of host labels and annotations; `null` values remove keys. */
export interface MetadataPatch {
  labels?: MapPatch;
  annotations?: MapPatch;
}

/** Metadata merge patch bringing an existing host object in line with its virtual object, if any. */
export function hostMetadataPatch(
  vObj: ObjectWithMeta,
  hostObj: ObjectWithMeta,
  ctx: TranslateContext,
  kind: SyncedKind,
  options: Omit<HostMetadataOptions, 'existing'> = {},
): MetadataPatch | undefined {
  const desired = hostMetadata(vObj, ctx, kind, { ...options, existing: hostObj.metadata });
  const labels = mapPatch(hostObj.metadata?.labels, desired.labels);
  const annotations = mapPatch(hostObj.metadata?.annotations, desired.annotations);
  if (!labels && !annotations) return undefined;
  const patch: MetadataPatch = {};
  if (labels) patch.labels = labels;
  if (annotations) patch.annotations = annotations;
  return patch;
}

/**
 * Whether the syncer of this vcluster owns a host object of this kind. Anything failing one check
 * (another namespace, another vcluster, hand-made, renamed, other kind) is never updated or deleted.
 */
export function isManagedBy(hostObj: ObjectWithMeta, ctx: TranslateContext, kind: SyncedKind): boolean {
  const meta = hostObj.metadata;
  if (!meta?.name || meta.namespace !== ctx.hostNamespace) return false;
  if (meta.labels?.[MARKER_LABEL] !== ctx.vclusterName) return false;
  const annotations = meta.annotations ?? {};
  const vName = annotations[NAME_ANNOTATION];
  if (!vName) return false;
  if (hostName(vName, annotations[NAMESPACE_ANNOTATION] ?? '', ctx.vclusterName) !== meta.name) return false;
  if (annotations[KIND_ANNOTATION] !== KIND_ANNOTATION_VALUES[kind]) return false;
  const recordedHostName = annotations[HOST_NAME_ANNOTATION];
  if (recordedHostName !== undefined && recordedHostName !== meta.name) return false;
  return true;
}

/** The virtual object a host object was made from, read from its annotations. */
export function virtualKeyOf(hostObj: ObjectWithMeta): VirtualKey | undefined {
  const annotations = hostObj.metadata?.annotations;
  const name = annotations?.[NAME_ANNOTATION];
  const namespace = annotations?.[NAMESPACE_ANNOTATION];
  if (!name || !namespace) return undefined;
  return { namespace, name };
}

/** A virtual ConfigMap or Secret marked to be synced even when unused. */
export function isForceSynced(vObj: ObjectWithMeta): boolean {
  return vObj.metadata?.annotations?.[FORCE_SYNC_ANNOTATION] === 'true';
}
