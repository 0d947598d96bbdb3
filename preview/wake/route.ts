import type { V1EndpointSlice, V1Ingress, V1Service } from '@kubernetes/client-node';

/**
 * While a preview sleeps its host Ingress sends its host name to the service's waker instead of the
 * app (whose pods are gone): the same Ingress, its backends swapped for a selector-less Service whose
 * EndpointSlice is the waker's address, the app's backends kept in an annotation to put back on wake.
 * Pure: what the objects become; wake-io.ts applies them.
 */

/** The Service (and EndpointSlice) in the preview's host namespace that stands for the waker. */
export const WAKER_SERVICE = 'preview-waker';
export const WAKER_PORT = 80;
/** On a sleeping preview's Ingress: its app backends as JSON (`IngressBackendRef[]`, one per path). */
export const ASLEEP_BACKENDS = 'vcluster-preview.dev/asleep-backends';

export interface IngressBackendRef {
  service: string;
  port: number;
}

/** Where the ingress controller reaches the waker: an IP address and port. */
export interface WakerAddress {
  ip: string;
  port: number;
}

const paths = (ingress: V1Ingress) => (ingress.spec?.rules ?? []).flatMap((rule) => rule.http?.paths ?? []);

/** The app backends of an Ingress: what it sends to now, or what it sent to before it slept. */
export function appBackends(ingress: V1Ingress): IngressBackendRef[] {
  const stored = ingress.metadata?.annotations?.[ASLEEP_BACKENDS];
  if (stored !== undefined) return parseBackends(stored);
  return paths(ingress).flatMap((path) => {
    const service = path.backend.service;
    return service?.name && service.port?.number !== undefined
      ? [{ service: service.name, port: service.port.number }]
      : [];
  });
}

function parseBackends(text: string): IngressBackendRef[] {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (entry): entry is IngressBackendRef =>
        typeof entry?.service === 'string' && Number.isInteger(entry?.port) && entry.port > 0,
    );
  } catch {
    return [];
  }
}

/** The Ingress as it is while the preview sleeps; one that sleeps already stays as it is. */
export function asleepIngress(ingress: V1Ingress): V1Ingress {
  if (ingress.metadata?.annotations?.[ASLEEP_BACKENDS] !== undefined) return ingress;
  const backends = appBackends(ingress);
  return withBackends(ingress, () => ({ service: WAKER_SERVICE, port: WAKER_PORT }), {
    ...ingress.metadata?.annotations,
    [ASLEEP_BACKENDS]: JSON.stringify(backends),
  });
}

/** The Ingress as it was before it slept; one that is awake stays as it is. */
export function awakeIngress(ingress: V1Ingress): V1Ingress {
  const stored = ingress.metadata?.annotations?.[ASLEEP_BACKENDS];
  if (stored === undefined) return ingress;
  const backends = parseBackends(stored);
  const { [ASLEEP_BACKENDS]: _, ...rest } = ingress.metadata?.annotations ?? {};
  return withBackends(ingress, (index) => backends[index], rest);
}

/** A copy of `ingress` fit for server-side apply, each path's backend from `backendAt(i)` (kept when undefined). */
function withBackends(
  ingress: V1Ingress,
  backendAt: (index: number) => IngressBackendRef | undefined,
  annotations: Record<string, string>,
): V1Ingress {
  let index = 0;
  const rules = (ingress.spec?.rules ?? []).map((rule) => ({
    ...rule,
    ...(rule.http
      ? {
          http: {
            paths: rule.http.paths.map((path) => {
              const backend = backendAt(index++);
              return backend
                ? { ...path, backend: { service: { name: backend.service, port: { number: backend.port } } } }
                : path;
            }),
          },
        }
      : {}),
  }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: ingress.metadata?.name ?? '',
      namespace: ingress.metadata?.namespace ?? '',
      ...(ingress.metadata?.labels ? { labels: ingress.metadata.labels } : {}),
      annotations,
    },
    spec: { ...ingress.spec, rules },
  };
}

/** The selector-less Service and its EndpointSlice that send the waker route to `address`. */
export function wakerObjects(namespace: string, address: WakerAddress): [V1Service, V1EndpointSlice] {
  const labels = { 'app.kubernetes.io/managed-by': 'vcluster-preview' };
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: WAKER_SERVICE, namespace, labels },
      spec: { ports: [{ name: 'http', port: WAKER_PORT, targetPort: address.port, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: WAKER_SERVICE,
        namespace,
        labels: {
          ...labels,
          'kubernetes.io/service-name': WAKER_SERVICE,
          // Not the endpoint slice controller's: it leaves a slice of another manager alone.
          'endpointslice.kubernetes.io/managed-by': 'vcluster-preview-waker',
        },
      },
      addressType: address.ip.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [address.ip], conditions: { ready: true } }],
      ports: [{ name: 'http', port: address.port, protocol: 'TCP' }],
    },
  ];
}

/**
 * The address of a ready pod behind `port` of the host Service, from its EndpointSlices, or
 * undefined while none is ready (a slice port is matched to the Service port by name).
 */
export function readyEndpoint(
  service: V1Service,
  slices: V1EndpointSlice[],
  port: number,
): { ip: string; port: number } | undefined {
  const servicePort = service.spec?.ports?.find((candidate) => candidate.port === port);
  if (!servicePort) return undefined;
  const name = servicePort.name ?? '';
  for (const slice of slices) {
    const slicePort = slice.ports?.find((candidate) => (candidate.name ?? '') === name)?.port;
    if (slicePort === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      // An unset `ready` means ready (the API's rule); a terminating pod is not.
      if (endpoint.conditions?.ready === false || endpoint.conditions?.terminating === true) continue;
      const ip = endpoint.addresses[0];
      if (ip) return { ip, port: slicePort };
    }
  }
  return undefined;
}

/** `10.0.0.5:3000` or `[fd00::5]:3000` as a waker address, or undefined when it is none. */
export function parseWakerAddress(text: string): WakerAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  const ip = match[1] ?? match[2] ?? '';
  if (match[2] && ip.split('.').some((part) => Number(part) > 255)) return undefined;
  return { ip, port };
}
