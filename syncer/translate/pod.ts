import type {
  V1Container,
  V1EnvFromSource,
  V1EnvVar,
  V1LabelSelector,
  V1LabelSelectorRequirement,
  V1LocalObjectReference,
  V1ObjectFieldSelector,
  V1OwnerReference,
  V1Pod,
  V1PodAffinityTerm,
  V1PodDNSConfig,
  V1PodDNSConfigOption,
  V1PodSchedulingGate,
  V1PodSpec,
  V1PodStatus,
  V1ProjectedVolumeSource,
  V1Service,
  V1Toleration,
  V1Volume,
} from '@kubernetes/client-node';
import { clusterDomainOf, kubernetesServicePortOf, type TranslateContext } from './context.ts';
import { deepEqual } from './equal.ts';
import {
  hostLabelKey,
  hostLabelSelector,
  hostMetadata,
  hostMetadataPatch,
  hostNamespaceLabelKey,
  hostNamespaceLabelSelector,
  MARKER_LABEL,
  type MetadataPatch,
  NAMESPACE_LABEL,
  requireVirtualKey,
  type VirtualKey,
} from './metadata.ts';
import { hostName, MAX_NAME_LENGTH, sha256Hex } from './names.ts';

// Pod annotations the downward API is redirected to: the host pod's own name, namespace, uid and
// labels are the translated ones, so the virtual values travel as annotations.
export const POD_NAME_ANNOTATION = 'vcluster.loft.sh/name';
export const POD_NAMESPACE_ANNOTATION = 'vcluster.loft.sh/namespace';
export const POD_UID_ANNOTATION = 'vcluster.loft.sh/uid';
export const POD_LABELS_ANNOTATION = 'vcluster.loft.sh/labels';
export const POD_SERVICE_ACCOUNT_NAME_ANNOTATION = 'vcluster.loft.sh/service-account-name';
export const POD_OWNER_REFERENCES_ANNOTATION = 'vcluster.loft.sh/owner-references';
export const POD_OWNER_SET_KIND_ANNOTATION = 'vcluster.loft.sh/owner-set-kind';
export const SAFE_TO_EVICT_ANNOTATION = 'cluster-autoscaler.kubernetes.io/safe-to-evict';
export const DAEMONSET_POD_ANNOTATION = 'cluster-autoscaler.kubernetes.io/daemonset-pod';
/**
 * Prefix of the host pod annotations holding service-account tokens minted by the virtual API server
 * (vcluster's default: no secret per pod); the projected volume reads them through the downward API.
 */
export const SA_TOKEN_ANNOTATION_PREFIX = 'vcluster.loft.sh/token-';

/** vcluster mints tokens for ten years: nothing refreshes them inside the host pod. */
export const SA_TOKEN_EXPIRATION_SECONDS = 10 * 365 * 24 * 60 * 60;

const OWNER_SET_KINDS = ['DaemonSet', 'Job', 'ReplicaSet', 'StatefulSet'];
const FIELD_PATH_LABEL = /^metadata\.labels\['(.+)'\]$/;

/** Facts about the virtual cluster the pod translation needs besides the pod itself. */
export interface PodExtras {
  /** Virtual services of the pod's namespace (their ClusterIPs equal the host ones): service-link env. */
  services?: V1Service[];
  /** Host service account the pod runs as; when absent the host namespace's default is used. */
  workloadServiceAccount?: string;
  /** Labels of the pod's virtual namespace, copied as namespace-label keys for namespaceSelector terms. */
  namespaceLabels?: Record<string, string>;
  /**
   * Service-account tokens the engine minted for the pod (podServiceAccountTokens), by annotation.
   * They become host pod annotations; a token not given here leaves its annotation out.
   */
  tokens?: Record<string, string>;
}

/** What the engine must mint (TokenRequest against the virtual API) for one token of the pod. */
export interface ServiceAccountTokenRequest {
  /** Host pod annotation the token goes into. */
  annotation: string;
  serviceAccountName: string;
  audiences: string[];
  expirationSeconds: number;
  /** The virtual pod the token is bound to. */
  boundPod: { name: string; uid: string };
}

/** Virtual objects a pod uses, by name in the pod's namespace (for usage-driven config/secret sync). */
export interface PodReferences {
  configMaps: string[];
  secrets: string[];
  persistentVolumeClaims: string[];
}

/** JSON merge patch of the pod fields Kubernetes allows to change after creation. */
export interface PodPatch {
  metadata?: MetadataPatch;
  spec?: {
    containers?: V1Container[];
    initContainers?: V1Container[];
    activeDeadlineSeconds?: number;
    tolerations?: V1Toleration[];
    schedulingGates?: V1PodSchedulingGate[];
  };
}

/** Kubelet's format for `metadata.labels` files: sorted `key="value"` lines, values JSON-escaped. */
export function podLabelsAnnotation(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .sort()
    .join('\n');
}

// Go's json.Marshal order and omitempty rules, so the annotation reads like vcluster's.
function ownerReferencesJson(refs: V1OwnerReference[]): string {
  return JSON.stringify(
    refs.map((r) => {
      const out: Record<string, unknown> = {
        apiVersion: r.apiVersion,
        kind: r.kind,
        name: r.name,
        uid: r.uid,
      };
      if (r.controller !== undefined) out.controller = r.controller;
      if (r.blockOwnerDeletion !== undefined) out.blockOwnerDeletion = r.blockOwnerDeletion;
      return out;
    }),
  );
}

function podAnnotations(vPod: V1Pod, key: VirtualKey): Record<string, string> {
  const out: Record<string, string> = {
    [POD_NAME_ANNOTATION]: key.name,
    [POD_NAMESPACE_ANNOTATION]: key.namespace,
    [POD_UID_ANNOTATION]: vPod.metadata?.uid ?? '',
    [POD_LABELS_ANNOTATION]: podLabelsAnnotation(vPod.metadata?.labels),
    [POD_SERVICE_ACCOUNT_NAME_ANNOTATION]: vPod.spec?.serviceAccountName ?? '',
  };
  const owners = vPod.metadata?.ownerReferences ?? [];
  if (owners.length > 0) {
    out[POD_OWNER_REFERENCES_ANNOTATION] = ownerReferencesJson(owners);
    const set = owners.find((o) => o.apiVersion === 'apps/v1' && OWNER_SET_KINDS.includes(o.kind));
    if (set) out[POD_OWNER_SET_KIND_ANNOTATION] = set.kind;
  }
  // tell a host cluster-autoscaler whether a controller would recreate the pod, unless the user did
  if (vPod.metadata?.annotations?.[SAFE_TO_EVICT_ANNOTATION] === undefined) {
    const controller = owners.find((o) => o.controller);
    out[SAFE_TO_EVICT_ANNOTATION] = String(controller !== undefined);
    if (controller?.kind === 'DaemonSet') out[DAEMONSET_POD_ANNOTATION] = 'true';
  }
  return out;
}

function namespaceLabels(
  labels: Record<string, string> | undefined,
  ctx: TranslateContext,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) out[hostNamespaceLabelKey(k, ctx)] = v;
  return out;
}

function podMetadataOptions(
  vPod: V1Pod,
  key: VirtualKey,
  ctx: TranslateContext,
  extras: PodExtras,
  tokens: Record<string, string>,
) {
  return {
    extraAnnotations: { ...podAnnotations(vPod, key), ...tokens },
    extraLabels: namespaceLabels(extras.namespaceLabels, ctx),
  };
}

/**
 * Host pod annotation holding one projected token. vcluster appends 8 random characters; ours are
 * derived from the volume and source, so translating the same pod twice gives the same host pod.
 */
export function saTokenAnnotation(volumeName: string, sourceIndex: number): string {
  return `${SA_TOKEN_ANNOTATION_PREFIX}${sha256Hex(`${volumeName}/${sourceIndex}`).slice(0, 8)}`;
}

interface TokenSource {
  volumeName: string;
  sourceIndex: number;
  annotation: string;
}

function tokenSources(spec: V1PodSpec | undefined): TokenSource[] {
  const out: TokenSource[] = [];
  for (const volume of spec?.volumes ?? []) {
    volume.projected?.sources?.forEach((source, i) => {
      if (source.serviceAccountToken)
        out.push({ volumeName: volume.name, sourceIndex: i, annotation: saTokenAnnotation(volume.name, i) });
    });
  }
  return out;
}

/**
 * The token annotations a host pod carries. Tokens are minted only when the host pod is created, so
 * an update keeps the ones the host pod has instead of removing them as no longer wanted.
 */
function hostTokenAnnotations(hostPod: V1Pod): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(hostPod.metadata?.annotations ?? {})) {
    if (k.startsWith(SA_TOKEN_ANNOTATION_PREFIX)) out[k] = v;
  }
  return out;
}

function serviceAccountOf(spec: V1PodSpec | undefined): string {
  return spec?.serviceAccountName || spec?.serviceAccount || 'default';
}

/** The tokens the engine must request from the virtual API and pass to podToHost as `tokens`. */
export function podServiceAccountTokens(vPod: V1Pod, ctx: TranslateContext): ServiceAccountTokenRequest[] {
  const key = requireVirtualKey(vPod, 'Pod');
  const domain = clusterDomainOf(ctx);
  const defaultAudiences = [
    `https://kubernetes.default.svc.${domain}`,
    'https://kubernetes.default.svc',
    'https://kubernetes.default',
  ];
  return tokenSources(vPod.spec).map((t) => {
    const volume = vPod.spec?.volumes?.find((v) => v.name === t.volumeName);
    const source = volume?.projected?.sources?.[t.sourceIndex]?.serviceAccountToken;
    return {
      annotation: t.annotation,
      serviceAccountName: serviceAccountOf(vPod.spec),
      audiences: source?.audience ? [source.audience] : defaultAudiences,
      expirationSeconds: SA_TOKEN_EXPIRATION_SECONDS,
      boundPod: { name: key.name, uid: vPod.metadata?.uid ?? '' },
    };
  });
}

function translateFieldRef(ref: V1ObjectFieldSelector | undefined, ctx: TranslateContext): void {
  if (!ref) return;
  const label = FIELD_PATH_LABEL.exec(ref.fieldPath)?.[1];
  if (label !== undefined) {
    ref.fieldPath = `metadata.labels['${hostLabelKey(label, ctx)}']`;
    return;
  }
  const redirect: Record<string, string> = {
    'metadata.name': POD_NAME_ANNOTATION,
    'metadata.namespace': POD_NAMESPACE_ANNOTATION,
    'metadata.uid': POD_UID_ANNOTATION,
    'metadata.labels': POD_LABELS_ANNOTATION,
    'spec.serviceAccountName': POD_SERVICE_ACCOUNT_NAME_ANNOTATION,
  };
  const annotation = redirect[ref.fieldPath];
  if (annotation) ref.fieldPath = `metadata.annotations['${annotation}']`;
}

function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function envName(name: string): string {
  return name.toUpperCase().replaceAll('-', '_');
}

// Docker-link style variables kubelet would inject for each service of the pod's namespace.
function serviceLinkEnv(services: V1Service[], namespace: string): Record<string, string> {
  const out: Record<string, string> = {};
  const usable = services
    .filter((s) => (s.metadata?.namespace ?? namespace) === namespace)
    .filter((s) => s.spec?.clusterIP && s.spec.clusterIP !== 'None' && (s.spec.ports?.length ?? 0) > 0)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const svc of usable) {
    const ip = svc.spec?.clusterIP ?? '';
    const prefix = envName(svc.metadata?.name ?? '');
    const ports = svc.spec?.ports ?? [];
    out[`${prefix}_SERVICE_HOST`] = ip;
    out[`${prefix}_SERVICE_PORT`] = String(ports[0]?.port);
    for (const p of ports) if (p.name) out[`${prefix}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
    ports.forEach((p, i) => {
      const proto = (p.protocol || 'TCP').toLowerCase();
      const url = `${proto}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out[`${prefix}_PORT`] = url;
      const portPrefix = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out[portPrefix] = url;
      out[`${portPrefix}_PROTO`] = proto;
      out[`${portPrefix}_PORT`] = String(p.port);
      out[`${portPrefix}_ADDR`] = ip;
    });
  }
  return out;
}

function kubernetesEnv(ip: string, port: number): Record<string, string> {
  const url = `tcp://${joinHostPort(ip, port)}`;
  return {
    KUBERNETES_PORT: url,
    [`KUBERNETES_PORT_${port}_TCP`]: url,
    [`KUBERNETES_PORT_${port}_TCP_ADDR`]: ip,
    [`KUBERNETES_PORT_${port}_TCP_PORT`]: String(port),
    [`KUBERNETES_PORT_${port}_TCP_PROTO`]: 'tcp',
    KUBERNETES_SERVICE_HOST: ip,
    KUBERNETES_SERVICE_PORT: String(port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(port),
  };
}

type AnyContainer = { env?: V1EnvVar[]; envFrom?: V1EnvFromSource[] };

function translateContainerEnv(
  container: AnyContainer,
  ns: string,
  ctx: TranslateContext,
  injected: Record<string, string>,
): void {
  const h = (name: string) => hostName(name, ns, ctx.vclusterName);
  for (const env of container.env ?? []) {
    translateFieldRef(env.valueFrom?.fieldRef, ctx);
    const cm = env.valueFrom?.configMapKeyRef;
    if (cm?.name) cm.name = h(cm.name);
    const secret = env.valueFrom?.secretKeyRef;
    if (secret?.name) secret.name = h(secret.name);
  }
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef?.name) from.configMapRef.name = h(from.configMapRef.name);
    if (from.secretRef?.name) from.secretRef.name = h(from.secretRef.name);
  }
  // injected variables come first (sorted) so the container's own variables can refer to them,
  // and never shadow a variable the container defines itself
  const own = new Set((container.env ?? []).map((e) => e.name));
  const extra = Object.keys(injected)
    .filter((name) => !own.has(name))
    .sort()
    .map((name) => ({ name, value: injected[name] ?? '' }));
  if (extra.length > 0 || container.env) container.env = [...extra, ...(container.env ?? [])];
}

// Volume types whose credentials live in a secret referenced by `secretRef.name`.
const SECRET_REF_VOLUMES = [
  'cephfs',
  'cinder',
  'flexVolume',
  'iscsi',
  'rbd',
  'scaleIO',
  'storageos',
] as const;

function volumeSecretRefs(volume: V1Volume): V1LocalObjectReference[] {
  const refs: V1LocalObjectReference[] = [];
  for (const type of SECRET_REF_VOLUMES) {
    const ref = volume[type]?.secretRef;
    if (ref?.name) refs.push(ref);
  }
  if (volume.csi?.nodePublishSecretRef?.name) refs.push(volume.csi.nodePublishSecretRef);
  return refs;
}

function translateProjected(
  projected: V1ProjectedVolumeSource,
  volumeName: string,
  tokens: TokenSource[],
  ns: string,
  ctx: TranslateContext,
): void {
  const h = (name: string) => hostName(name, ns, ctx.vclusterName);
  projected.sources?.forEach((source, i) => {
    if (source.secret?.name) source.secret.name = h(source.secret.name);
    if (source.configMap?.name) source.configMap.name = h(source.configMap.name);
    for (const item of source.downwardAPI?.items ?? []) translateFieldRef(item.fieldRef, ctx);
    const token = source.serviceAccountToken;
    if (token) {
      // the host cannot mint tokens of the virtual API server: the engine-minted one sits in an
      // annotation of the host pod itself, so no object besides the pod is written for it
      const annotation =
        tokens.find((t) => t.volumeName === volumeName && t.sourceIndex === i)?.annotation ??
        saTokenAnnotation(volumeName, i);
      delete source.serviceAccountToken;
      source.downwardAPI = {
        items: [
          {
            path: token.path,
            fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${annotation}']` },
            mode: 0o644,
          },
        ],
      };
    }
  });
}

function translateVolumes(spec: V1PodSpec, podName: string, ns: string, ctx: TranslateContext) {
  const h = (name: string) => hostName(name, ns, ctx.vclusterName);
  const tokens = tokenSources(spec);
  for (const volume of spec.volumes ?? []) {
    if (volume.configMap?.name) volume.configMap.name = h(volume.configMap.name);
    if (volume.secret?.secretName) volume.secret.secretName = h(volume.secret.secretName);
    if (volume.persistentVolumeClaim)
      volume.persistentVolumeClaim.claimName = h(volume.persistentVolumeClaim.claimName);
    if (volume.ephemeral) {
      // the virtual controller manager creates the `<pod>-<volume>` PVC and the PVC syncer copies it;
      // letting the host create one as well would make two claims for one volume
      delete volume.ephemeral;
      volume.persistentVolumeClaim = { claimName: h(`${podName}-${volume.name}`) };
    }
    if (volume.projected) translateProjected(volume.projected, volume.name, tokens, ns, ctx);
    for (const item of volume.downwardAPI?.items ?? []) translateFieldRef(item.fieldRef, ctx);
    for (const ref of volumeSecretRefs(volume)) ref.name = h(ref.name ?? '');
    if (volume.azureFile?.secretName) volume.azureFile.secretName = h(volume.azureFile.secretName);
    if (volume.glusterfs?.endpoints) volume.glusterfs.endpoints = h(volume.glusterfs.endpoints);
  }
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}

/** Whether the pod resolves names through the cluster's DNS (and so needs the virtual cluster's). */
export function usesClusterDns(spec: V1PodSpec | undefined): boolean {
  const policy = spec?.dnsPolicy || 'ClusterFirst';
  return policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !spec?.hostNetwork);
}

/** The virtual cluster's DNS service, as vcluster finds it. */
export const VIRTUAL_DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' } as const;

/**
 * The nameserver of synced pods: the one configured, else the host ClusterIP of the virtual
 * `kube-system/kube-dns` Service's host twin. `wait` while the virtual cluster has that Service but
 * its twin has no ClusterIP yet (a pod made now would never resolve virtual names); undefined when
 * the virtual cluster has no DNS service at all (pods keep the host's DNS).
 */
export function dnsServiceIPFor(facts: {
  configured?: string;
  virtualService?: V1Service;
  hostService?: V1Service;
}): string | 'wait' | undefined {
  if (facts.configured) return facts.configured;
  if (!facts.virtualService) return undefined;
  const ip = facts.hostService?.spec?.clusterIP;
  return ip && ip !== 'None' ? ip : 'wait';
}

function translateDns(spec: V1PodSpec, ns: string, ctx: TranslateContext): void {
  const clusterFirst = usesClusterDns(spec);
  // Without the virtual DNS service IP we cannot point the pod at the virtual cluster's DNS, and
  // dnsPolicy None without a nameserver is invalid. The policy is left as it is: the host's cluster
  // DNS still resolves external names, only virtual service names fail (the same fallback as vcluster).
  if (!clusterFirst || !ctx.dnsServiceIP) return;
  const domain = clusterDomainOf(ctx);
  const existing = spec.dnsConfig;
  // user options win over ours, as they do over kubelet's defaults
  const options = new Map<string, V1PodDNSConfigOption>([['ndots', { name: 'ndots', value: '5' }]]);
  for (const opt of existing?.options ?? []) options.set(opt.name ?? '', opt);
  const config: V1PodDNSConfig = {
    nameservers: dedupe([ctx.dnsServiceIP, ...(existing?.nameservers ?? [])]),
    searches: dedupe([`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...(existing?.searches ?? [])]),
    options: [...options.values()],
  };
  spec.dnsPolicy = 'None';
  spec.dnsConfig = config;
}

function isEmptySelector(selector: V1LabelSelector | undefined): boolean {
  return !!selector && !selector.matchLabels && !selector.matchExpressions?.length;
}

function addMatchLabels(selector: V1LabelSelector, labels: Record<string, string>): void {
  selector.matchLabels = { ...(selector.matchLabels ?? {}), ...labels };
}

function addMatchExpressions(selector: V1LabelSelector, reqs: V1LabelSelectorRequirement[]): void {
  if (reqs.length > 0) selector.matchExpressions = [...(selector.matchExpressions ?? []), ...reqs];
}

// All synced pods share one host namespace, so the namespace part of an affinity term becomes a label
// match on vcluster's namespace (or namespace-label) keys, scoped to this vcluster.
function translateAffinityTerm(
  term: V1PodAffinityTerm,
  ns: string,
  ctx: TranslateContext,
): V1PodAffinityTerm {
  const out: V1PodAffinityTerm = { topologyKey: term.topologyKey };
  if (term.matchLabelKeys) out.matchLabelKeys = term.matchLabelKeys.map((k) => hostLabelKey(k, ctx));
  if (term.mismatchLabelKeys) out.mismatchLabelKeys = term.mismatchLabelKeys.map((k) => hostLabelKey(k, ctx));
  const selector = hostLabelSelector(term.labelSelector, ctx);
  // a null label selector matches nothing: keep it that way
  if (!selector) return out;
  if (term.namespaces?.length) {
    // namespaces together with a non-empty namespaceSelector is a union a selector cannot express:
    // like vcluster, the namespace list wins; an empty namespaceSelector means all namespaces
    if (!isEmptySelector(term.namespaceSelector)) {
      addMatchExpressions(selector, [{ key: NAMESPACE_LABEL, operator: 'In', values: [...term.namespaces] }]);
    }
  } else if (term.namespaceSelector) {
    const nsSelector = hostNamespaceLabelSelector(term.namespaceSelector, ctx);
    if (nsSelector?.matchLabels) addMatchLabels(selector, nsSelector.matchLabels);
    addMatchExpressions(selector, nsSelector?.matchExpressions ?? []);
  } else {
    addMatchLabels(selector, { [NAMESPACE_LABEL]: ns });
  }
  addMatchLabels(selector, { [MARKER_LABEL]: ctx.vclusterName });
  out.labelSelector = selector;
  return out;
}

function translateAffinity(spec: V1PodSpec, ns: string, ctx: TranslateContext): void {
  for (const affinity of [spec.affinity?.podAffinity, spec.affinity?.podAntiAffinity]) {
    if (!affinity) continue;
    if (affinity.requiredDuringSchedulingIgnoredDuringExecution) {
      affinity.requiredDuringSchedulingIgnoredDuringExecution =
        affinity.requiredDuringSchedulingIgnoredDuringExecution.map((t) => translateAffinityTerm(t, ns, ctx));
    }
    for (const weighted of affinity.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      weighted.podAffinityTerm = translateAffinityTerm(weighted.podAffinityTerm, ns, ctx);
    }
  }
  for (const constraint of spec.topologySpreadConstraints ?? []) {
    const selector = hostLabelSelector(constraint.labelSelector, ctx);
    if (selector) {
      addMatchLabels(selector, { [NAMESPACE_LABEL]: ns, [MARKER_LABEL]: ctx.vclusterName });
      constraint.labelSelector = selector;
    }
    if (constraint.matchLabelKeys)
      constraint.matchLabelKeys = constraint.matchLabelKeys.map((k) => hostLabelKey(k, ctx));
  }
}

/** The pod's hostname inside the host pod: the virtual name, as a valid DNS label. */
export function podHostname(virtualName: string): string {
  return virtualName.slice(0, MAX_NAME_LENGTH).replaceAll('.', '-').replace(/-+$/, '');
}

/** The host pod for a virtual pod. Pure: the engine mints the tokens first and passes them in `extras`. */
/** Pod fields that choose host nodes, taints, runtimes or schedulers: never taken from a virtual pod. */
export const HOST_SCHEDULING_FIELDS = [
  'nodeSelector',
  'tolerations',
  'runtimeClassName',
  'schedulerName',
  'preemptionPolicy',
] as const;

/**
 * What the virtual API server writes into every pod by itself (defaulting, the Priority and
 * DefaultTolerationSeconds admission plugins): the host writes the same into the host pod, so
 * leaving these out changes nothing and is not worth an event.
 */
const isAdmissionDefault: { [F in (typeof HOST_SCHEDULING_FIELDS)[number]]?: (value: unknown) => boolean } = {
  schedulerName: (value) => value === 'default-scheduler',
  preemptionPolicy: (value) => value === 'PreemptLowerPriority',
};
const defaultTolerationKeys = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
const isDefaultToleration = (toleration: V1Toleration) =>
  defaultTolerationKeys.has(toleration.key ?? '') &&
  toleration.operator === 'Exists' &&
  toleration.effect === 'NoExecute' &&
  toleration.tolerationSeconds === 300 &&
  toleration.value === undefined;

/**
 * What of a virtual pod's scheduling podToHost leaves out (besides `nodeName`, which the host's
 * scheduler sets, and priority, which the host does not know), as the pull request asked for it:
 * for the event that says so. What admission adds to every pod is not named.
 */
export function droppedSchedulingFields(vPod: V1Pod): string[] {
  const spec = vPod.spec ?? { containers: [] };
  const dropped: string[] = HOST_SCHEDULING_FIELDS.filter((field) => {
    const value =
      field === 'tolerations' ? spec.tolerations?.filter((t) => !isDefaultToleration(t)) : spec[field];
    return (
      value !== undefined &&
      !(Array.isArray(value) && value.length === 0) &&
      !(typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) &&
      !isAdmissionDefault[field]?.(value)
    );
  }).map((field) => `spec.${field}`);
  if (spec.affinity?.nodeAffinity) dropped.push('spec.affinity.nodeAffinity');
  if (spec.priorityClassName) dropped.push('spec.priorityClassName');
  return dropped;
}

export function podToHost(vPod: V1Pod, ctx: TranslateContext, extras: PodExtras = {}): V1Pod {
  const key = requireVirtualKey(vPod, 'Pod');
  const ns = key.namespace;
  const tokens: Record<string, string> = {};
  for (const t of tokenSources(vPod.spec)) {
    const token = extras.tokens?.[t.annotation];
    if (token !== undefined) tokens[t.annotation] = token;
  }
  const metadata = hostMetadata(vPod, ctx, 'Pod', podMetadataOptions(vPod, key, ctx, extras, tokens));
  const spec: V1PodSpec = structuredClone(vPod.spec) ?? { containers: [] };

  // the host scheduler picks the node; the syncer binds the virtual pod to it afterwards
  delete spec.nodeName;
  // virtual service accounts do not exist on the host: run as the workload account, never mount host tokens
  delete spec.serviceAccount;
  if (extras.workloadServiceAccount) spec.serviceAccountName = extras.workloadServiceAccount;
  else delete spec.serviceAccountName;
  spec.automountServiceAccountToken = false;
  // host service-link variables would describe host services: the virtual ones are injected below
  spec.enableServiceLinks = false;
  // virtual priority classes do not exist on the host (and a bare priority is rejected without one)
  delete spec.priorityClassName;
  delete spec.priority;
  // Where and how a pod runs on the host is the operator's: a pull request picks no node, taint,
  // runtime, scheduler or preemption (see hostSchedulingFields).
  for (const field of HOST_SCHEDULING_FIELDS) delete spec[field];
  if (spec.affinity?.nodeAffinity) {
    delete spec.affinity.nodeAffinity;
    if (Object.keys(spec.affinity).length === 0) delete spec.affinity;
  }

  if (ctx.kubernetesServiceIP) {
    spec.hostAliases = [
      ...(spec.hostAliases ?? []),
      {
        ip: ctx.kubernetesServiceIP,
        hostnames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      },
    ];
  }
  translateDns(spec, ns, ctx);
  if (!spec.hostname) spec.hostname = podHostname(key.name);
  // the host has no headless service of that name for the subdomain to resolve against
  delete spec.subdomain;

  // kubelet's service links use the virtual services (default on, as in Kubernetes)
  const injected: Record<string, string> = {};
  if (vPod.spec?.enableServiceLinks !== false)
    Object.assign(injected, serviceLinkEnv(extras.services ?? [], ns));
  // without the API service IP the host kubelet's own KUBERNETES_* (the host API) stay in place
  if (ctx.kubernetesServiceIP)
    Object.assign(injected, kubernetesEnv(ctx.kubernetesServiceIP, kubernetesServicePortOf(ctx)));
  const containers: AnyContainer[] = [
    ...spec.containers,
    ...(spec.initContainers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  for (const container of containers) translateContainerEnv(container, ns, ctx, injected);

  for (const secret of spec.imagePullSecrets ?? []) {
    if (secret.name) secret.name = hostName(secret.name, ns, ctx.vclusterName);
  }
  translateVolumes(spec, key.name, ns, ctx);
  translateAffinity(spec, ns, ctx);

  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].filter((v) => v !== '').sort();
}

/** Virtual configmaps, secrets and PVCs (names in the pod's namespace) the pod needs on the host. */
export function podReferences(vPod: V1Pod): PodReferences {
  const configMaps: string[] = [];
  const secrets: string[] = [];
  const claims: string[] = [];
  const spec = vPod.spec;
  for (const volume of spec?.volumes ?? []) {
    if (volume.configMap?.name) configMaps.push(volume.configMap.name);
    if (volume.secret?.secretName) secrets.push(volume.secret.secretName);
    if (volume.persistentVolumeClaim?.claimName) claims.push(volume.persistentVolumeClaim.claimName);
    if (volume.ephemeral && vPod.metadata?.name) claims.push(`${vPod.metadata.name}-${volume.name}`);
    for (const source of volume.projected?.sources ?? []) {
      if (source.configMap?.name) configMaps.push(source.configMap.name);
      if (source.secret?.name) secrets.push(source.secret.name);
    }
    for (const ref of volumeSecretRefs(volume)) secrets.push(ref.name ?? '');
    if (volume.azureFile?.secretName) secrets.push(volume.azureFile.secretName);
  }
  const containers: AnyContainer[] = [
    ...(spec?.containers ?? []),
    ...(spec?.initContainers ?? []),
    ...(spec?.ephemeralContainers ?? []),
  ];
  for (const container of containers) {
    for (const env of container.env ?? []) {
      if (env.valueFrom?.configMapKeyRef?.name) configMaps.push(env.valueFrom.configMapKeyRef.name);
      if (env.valueFrom?.secretKeyRef?.name) secrets.push(env.valueFrom.secretKeyRef.name);
    }
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef?.name) configMaps.push(from.configMapRef.name);
      if (from.secretRef?.name) secrets.push(from.secretRef.name);
    }
  }
  for (const pull of spec?.imagePullSecrets ?? []) secrets.push(pull.name ?? '');
  return {
    configMaps: sortedUnique(configMaps),
    secrets: sortedUnique(secrets),
    persistentVolumeClaims: sortedUnique(claims),
  };
}

function imageUpdates(
  host: V1Container[] | undefined,
  virtual: V1Container[] | undefined,
): V1Container[] | undefined {
  let changed = false;
  const out = (host ?? []).map((hc) => {
    const vc = virtual?.find((c) => c.name === hc.name);
    if (!vc || vc.image === hc.image) return hc;
    changed = true;
    return { ...structuredClone(hc), image: vc.image };
  });
  return changed ? structuredClone(out) : undefined;
}

/**
 * The merge patch bringing a host pod in line with its virtual pod, limited to what Kubernetes lets
 * change on a running pod: container images, added tolerations, a lower activeDeadlineSeconds, removed
 * scheduling gates, labels and annotations. Undefined when nothing changed.
 */
export function podUpdateToHost(
  vPod: V1Pod,
  hostPod: V1Pod,
  ctx: TranslateContext,
  extras: PodExtras = {},
): PodPatch | undefined {
  const key = requireVirtualKey(vPod, 'Pod');
  const patch: PodPatch = {};
  const spec: NonNullable<PodPatch['spec']> = {};

  const containers = imageUpdates(hostPod.spec?.containers, vPod.spec?.containers);
  if (containers) spec.containers = containers;
  const initContainers = imageUpdates(hostPod.spec?.initContainers, vPod.spec?.initContainers);
  if (initContainers) spec.initContainers = initContainers;

  // it can only be set or lowered, never removed or raised
  const vDeadline = vPod.spec?.activeDeadlineSeconds;
  const hDeadline = hostPod.spec?.activeDeadlineSeconds;
  if (vDeadline !== undefined && (hDeadline === undefined || vDeadline < hDeadline)) {
    spec.activeDeadlineSeconds = vDeadline;
  }

  // tolerations are the operator's (HOST_SCHEDULING_FIELDS): a virtual pod's never reach the host

  // scheduling gates can only be removed
  const vGates = new Set((vPod.spec?.schedulingGates ?? []).map((g) => g.name));
  const hostGates = hostPod.spec?.schedulingGates ?? [];
  const keptGates = hostGates.filter((g) => vGates.has(g.name));
  if (keptGates.length !== hostGates.length) spec.schedulingGates = structuredClone(keptGates);

  if (Object.keys(spec).length > 0) patch.spec = spec;
  const metadata = hostMetadataPatch(
    vPod,
    hostPod,
    ctx,
    'Pod',
    podMetadataOptions(vPod, key, ctx, extras, hostTokenAnnotations(hostPod)),
  );
  if (metadata) patch.metadata = metadata;
  return patch.spec || patch.metadata ? patch : undefined;
}

/**
 * Status to write on the virtual pod: the host status, except qosClass, which the virtual API server
 * computed itself and refuses to change. Undefined when the virtual pod already shows it.
 */
export function podStatusToVirtual(hostPod: V1Pod, vPod: V1Pod): V1PodStatus | undefined {
  if (!hostPod.status) return undefined;
  const status: V1PodStatus = structuredClone(hostPod.status);
  delete status.qosClass;
  if (vPod.status?.qosClass !== undefined) status.qosClass = vPod.status.qosClass;
  // The Binding (podNodeNameToVirtual) marks the virtual pod scheduled itself, moments after the host
  // scheduler did: a host pod that is only scheduled so far shows nothing new once bound, so it costs
  // no write; the times come along with the next real change (Running, a container state).
  const virtualStatus = podNodeNameToVirtual(hostPod, vPod) ? boundStatus(vPod.status) : vPod.status;
  return deepEqual(withoutScheduledTimes(status), withoutScheduledTimes(virtualStatus)) ? undefined : status;
}

const SCHEDULED = 'PodScheduled';

// What a Binding does to the status: PodScheduled becomes True.
function boundStatus(status: V1PodStatus | undefined): V1PodStatus {
  const others = (status?.conditions ?? []).filter((c) => c.type !== SCHEDULED);
  return { ...status, conditions: [...others, { type: SCHEDULED, status: 'True' }] };
}

// A True PodScheduled condition without the times the two schedulers stamp on it.
function withoutScheduledTimes(status: V1PodStatus | undefined): V1PodStatus | undefined {
  if (!status?.conditions) return status;
  return {
    ...status,
    conditions: status.conditions.map((c) =>
      c.type === SCHEDULED && c.status === 'True' ? { type: c.type, status: c.status } : c,
    ),
  };
}

/** Node the virtual pod must be bound to (via a Binding), once the host scheduler placed the host pod. */
export function podNodeNameToVirtual(hostPod: V1Pod, vPod: V1Pod): string | undefined {
  const node = hostPod.spec?.nodeName;
  if (!node || vPod.spec?.nodeName) return undefined;
  return node;
}
