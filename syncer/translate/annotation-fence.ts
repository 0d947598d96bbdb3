/**
 * Annotations a pull request may not pass to the host (pure): the ones the host's own controllers
 * act on, ingress controllers (snippets, auth, rewrites), cloud load balancers, DNS and certificate
 * issuers. On the host they would steer the operator's shared machinery, so they stay in the virtual
 * cluster unless the operator allows a key (`--allow-annotations`: exact keys, or prefixes ending
 * in `/` or `*`).
 */

/** Prefixes (ending in `/`) and whole keys the host's controllers read. */
export const FENCED_ANNOTATIONS: readonly string[] = [
  'nginx.ingress.kubernetes.io/',
  'nginx.org/',
  'ingress.kubernetes.io/',
  'traefik.ingress.kubernetes.io/',
  'traefik.io/',
  'haproxy.org/',
  'haproxy.router.openshift.io/',
  'konghq.com/',
  'projectcontour.io/',
  'getambassador.io/',
  'alb.ingress.kubernetes.io/',
  'appgw.ingress.kubernetes.io/',
  'service.beta.kubernetes.io/',
  'service.kubernetes.io/',
  'cloud.google.com/',
  'networking.gke.io/',
  'external-dns.alpha.kubernetes.io/',
  'cert-manager.io/',
  'acme.cert-manager.io/',
  'kubernetes.io/ingress.class',
  'kubernetes.io/tls-acme',
];

const matches = (key: string, pattern: string) =>
  pattern.endsWith('/') || pattern.endsWith('*')
    ? key.startsWith(pattern.replace(/\*$/, ''))
    : key === pattern;

/** Whether `key` stays off the host: a fenced key the operator did not allow. */
export function isFencedAnnotation(key: string, allowed: readonly string[] = []): boolean {
  const lower = key.toLowerCase();
  return (
    FENCED_ANNOTATIONS.some((pattern) => matches(lower, pattern)) &&
    !allowed.some((pattern) => matches(lower, pattern.toLowerCase()))
  );
}

/** The annotation keys of a virtual object that stay off the host, sorted. */
export function fencedAnnotationsOf(
  annotations: Record<string, string> | undefined,
  allowed: readonly string[] = [],
): string[] {
  return Object.keys(annotations ?? {})
    .filter((key) => isFencedAnnotation(key, allowed))
    .sort();
}
