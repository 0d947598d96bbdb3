import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * What every deployed object shares: the label that marks it as ours, its annotations, the field
 * manager of server-side apply, and how one object is named in messages and the inventory.
 */

/** On every object deployed into the virtual cluster: only objects with it are ever pruned. */
export const MANAGED_LABEL = 'vcluster-preview.dev/managed';
/** The commit an object was last deployed from. */
export const COMMIT_ANNOTATION = 'vcluster-preview.dev/commit';
/** The file of the repository an object came from (`deploy/app.yaml`, `helm:charts/app`). */
export const SOURCE_ANNOTATION = 'vcluster-preview.dev/source';
/** Server-side apply field manager of everything vcluster-preview applies. */
export const FIELD_MANAGER = 'vcluster-preview';

/** One object by identity: what the inventory lists and what messages name. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

/**
 * Built-in kinds that are not namespaced. Kinds of CRDs deployed together with the app are looked up
 * in their CRD; any other kind is taken as namespaced (the API server ignores a namespace on a
 * cluster-scoped object, so a wrong guess only costs a default namespace in the inventory).
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'APIService',
  'CertificateSigningRequest',
  'ClusterRole',
  'ClusterRoleBinding',
  'ComponentStatus',
  'CSIDriver',
  'CSINode',
  'CustomResourceDefinition',
  'FlowSchema',
  'IngressClass',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'MutatingWebhookConfiguration',
  'Namespace',
  'Node',
  'PersistentVolume',
  'PriorityClass',
  'PriorityLevelConfiguration',
  'RuntimeClass',
  'StorageClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration',
  'VolumeAttachment',
  'VolumeAttributesClass',
]);

/** The API group of an apiVersion (`apps/v1` → `apps`, `v1` → `` for the core group). */
export const groupOf = (apiVersion: string): string =>
  apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';

/** The reference of an object (its namespace only when it has one). */
export function refOf(object: KubernetesObject): ObjectRef {
  const ref: ObjectRef = {
    apiVersion: object.apiVersion ?? '',
    kind: object.kind ?? '',
    name: object.metadata?.name ?? '',
  };
  if (object.metadata?.namespace) ref.namespace = object.metadata.namespace;
  return ref;
}

/**
 * The identity of an object across versions of its API: group, kind, namespace and name. An object
 * whose apiVersion moved from `v1beta1` to `v1` is the same object and is not pruned; one whose kind
 * changed (a Deployment that became a StatefulSet of the same name) is another.
 */
export const identityOf = (ref: ObjectRef): string =>
  `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

/** `Deployment default/hello`, `Namespace shop`. */
export const describeRef = (ref: ObjectRef): string =>
  `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

/** Phases of applying: namespaces first, then CRDs, then everything else (pruning runs them backwards). */
export function phaseOf(ref: Pick<ObjectRef, 'apiVersion' | 'kind'>): 0 | 1 | 2 {
  if (ref.kind === 'Namespace' && groupOf(ref.apiVersion) === '') return 0;
  if (ref.kind === 'CustomResourceDefinition' && groupOf(ref.apiVersion) === 'apiextensions.k8s.io') return 1;
  return 2;
}
