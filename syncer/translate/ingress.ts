import type {
  V1HTTPIngressPath,
  V1Ingress,
  V1IngressBackend,
  V1IngressSpec,
  V1IngressStatus,
} from '@kubernetes/client-node';
import { isFencedAnnotation } from './annotation-fence.ts';
import type { TranslateContext } from './context.ts';
import { deepEqual, type Nullable } from './equal.ts';
import {
  hostMetadata,
  hostMetadataPatch,
  type MetadataPatch,
  requireVirtualKey,
  type VirtualKey,
} from './metadata.ts';
import { hostName } from './names.ts';

/** ingress-nginx annotations naming a secret (`name` or `namespace/name`), translated like vcluster. */
export const SECRET_ANNOTATIONS: readonly string[] = [
  'nginx.ingress.kubernetes.io/auth-secret',
  'nginx.ingress.kubernetes.io/auth-tls-secret',
  'nginx.ingress.kubernetes.io/proxy-ssl-secret',
];

/** Stands for "any host" in ingressHostViolations: a rule without host, or a default backend. */
export const ANY_HOST = '*';

/** JSON merge patch of a host ingress. */
export interface IngressPatch {
  metadata?: MetadataPatch;
  spec?: Nullable<V1IngressSpec>;
}

function translateBackend(backend: V1IngressBackend | undefined, ns: string, ctx: TranslateContext): void {
  if (backend?.service?.name) backend.service.name = hostName(backend.service.name, ns, ctx.vclusterName);
  if (backend?.resource?.name) backend.resource.name = hostName(backend.resource.name, ns, ctx.vclusterName);
}

function hostIngressSpec(vIng: V1Ingress, ns: string, ctx: TranslateContext): V1IngressSpec {
  const spec: V1IngressSpec = structuredClone(vIng.spec) ?? {};
  // The class picks the controller (and so who serves and logs the traffic): the operator's choice.
  delete spec.ingressClassName;
  if (ctx.ingressClassName) spec.ingressClassName = ctx.ingressClassName;
  translateBackend(spec.defaultBackend, ns, ctx);
  for (const rule of spec.rules ?? []) {
    for (const path of rule.http?.paths ?? ([] as V1HTTPIngressPath[]))
      translateBackend(path.backend, ns, ctx);
  }
  for (const tls of spec.tls ?? []) {
    if (tls.secretName) tls.secretName = hostName(tls.secretName, ns, ctx.vclusterName);
  }
  return spec;
}

function splitSecretRef(value: string, ns: string): VirtualKey | undefined {
  const parts = value.split('/');
  if (parts.length === 1 && parts[0]) return { namespace: ns, name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  return undefined;
}

function secretAnnotations(vIng: V1Ingress, ns: string, ctx: TranslateContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SECRET_ANNOTATIONS) {
    const value = vIng.metadata?.annotations?.[key];
    // Only where the operator lets ingress-nginx's annotations reach the host at all.
    if (value === undefined || isFencedAnnotation(key, ctx.allowedAnnotations)) continue;
    const ref = splitSecretRef(value, ns);
    if (!ref) out[key] = value;
    else if (value.includes('/'))
      out[key] = `${ctx.hostNamespace}/${hostName(ref.name, ref.namespace, ctx.vclusterName)}`;
    else out[key] = hostName(ref.name, ref.namespace, ctx.vclusterName);
  }
  return out;
}

/**
 * The host ingress for a virtual ingress: backend services, resource backends, TLS secrets and
 * ingress-nginx secret annotations point at host names. Hosts pass through (check
 * ingressHostViolations() first); the class is the operator's (`ctx.ingressClassName`), never the
 * virtual Ingress's.
 */
export function ingressToHost(vIng: V1Ingress, ctx: TranslateContext): V1Ingress {
  const key = requireVirtualKey(vIng, 'Ingress');
  const metadata = hostMetadata(vIng, ctx, 'Ingress', {
    extraAnnotations: secretAnnotations(vIng, key.namespace, ctx),
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata,
    spec: hostIngressSpec(vIng, key.namespace, ctx),
  };
}

/** The merge patch bringing a host ingress in line with its virtual ingress, or undefined. */
export function ingressUpdateToHost(
  vIng: V1Ingress,
  hostIng: V1Ingress,
  ctx: TranslateContext,
): IngressPatch | undefined {
  const key = requireVirtualKey(vIng, 'Ingress');
  const desired = hostIngressSpec(vIng, key.namespace, ctx);
  const current = hostIng.spec ?? {};
  const spec: Nullable<V1IngressSpec> = {};
  for (const field of ['defaultBackend', 'rules', 'tls'] as const) {
    if (!deepEqual(desired[field], current[field]))
      (spec as Record<string, unknown>)[field] = desired[field] ?? null;
  }
  // the host may default the class (default IngressClass); only the operator's class is pushed
  if (desired.ingressClassName !== undefined && desired.ingressClassName !== current.ingressClassName) {
    spec.ingressClassName = desired.ingressClassName;
  }
  const patch: IngressPatch = {};
  if (Object.keys(spec).length > 0) patch.spec = spec;
  const metadata = hostMetadataPatch(vIng, hostIng, ctx, 'Ingress', {
    extraAnnotations: secretAnnotations(vIng, key.namespace, ctx),
  });
  if (metadata) patch.metadata = metadata;
  return patch.spec || patch.metadata ? patch : undefined;
}

function normalizedLoadBalancer(status: V1IngressStatus | undefined) {
  const lb = status?.loadBalancer;
  return lb?.ingress?.length ? lb : {};
}

/** Status for the virtual ingress: the host's load-balancer addresses. Undefined when already shown. */
export function ingressStatusToVirtual(hostIng: V1Ingress, vIng: V1Ingress): V1IngressStatus | undefined {
  const loadBalancer = structuredClone(normalizedLoadBalancer(hostIng.status));
  if (deepEqual(loadBalancer, normalizedLoadBalancer(vIng.status))) return undefined;
  return { ...structuredClone(vIng.status ?? {}), loadBalancer };
}

/**
 * Virtual secrets the ingress needs on the host (TLS, and ingress-nginx annotations where the operator
 * lets them through, `allowedAnnotations`), without duplicates: a fenced annotation's secret would be
 * copied for nothing.
 */
export function ingressSecretRefs(vIng: V1Ingress, allowedAnnotations: readonly string[] = []): VirtualKey[] {
  const key = requireVirtualKey(vIng, 'Ingress');
  const refs: VirtualKey[] = [];
  for (const annotation of SECRET_ANNOTATIONS) {
    if (isFencedAnnotation(annotation, allowedAnnotations)) continue;
    const value = vIng.metadata?.annotations?.[annotation];
    const ref = value === undefined ? undefined : splitSecretRef(value, key.namespace);
    if (ref) refs.push(ref);
  }
  for (const tls of vIng.spec?.tls ?? []) {
    if (tls.secretName) refs.push({ namespace: key.namespace, name: tls.secretName });
  }
  const seen = new Set<string>();
  return refs.filter((r) => {
    const id = `${r.namespace}/${r.name}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

function normalizeSuffix(suffix: string): string {
  return normalizeHost(suffix).replace(/^\*\./, '').replace(/^\./, '');
}

/** Whether a host (possibly `*.`-wildcarded) is the allowed suffix or one of its subdomains. */
export function hostMatchesSuffix(host: string, suffix: string): boolean {
  const h = normalizeHost(host);
  const s = normalizeSuffix(suffix);
  if (s === '') return false;
  return h === s || h.endsWith(`.${s}`);
}

/**
 * Hosts of the ingress outside the preview's domain (`ctx.allowedHostSuffix`), in order, without
 * duplicates. A rule without host and a default backend catch every host of a shared ingress
 * controller, so they are reported as `*`. Nothing is reported when no suffix is configured.
 */
export function ingressHostViolations(vIng: V1Ingress, ctx: TranslateContext): string[] {
  const suffix = ctx.allowedHostSuffix;
  if (!suffix) return [];
  const spec = vIng.spec ?? {};
  const offending: string[] = [];
  if (spec.defaultBackend) offending.push(ANY_HOST);
  for (const rule of spec.rules ?? []) {
    if (!rule.host) offending.push(ANY_HOST);
    else if (!hostMatchesSuffix(rule.host, suffix)) offending.push(rule.host);
  }
  for (const tls of spec.tls ?? []) {
    for (const host of tls.hosts ?? []) if (!hostMatchesSuffix(host, suffix)) offending.push(host);
  }
  return [...new Set(offending)];
}
