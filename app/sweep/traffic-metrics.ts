/**
 * Requests per preview from an ingress controller's Prometheus metrics (text exposition format).
 * Pure: the sweep fetches the text (traffic-source.ts) and passes it here with the host namespaces
 * of the previews it judges.
 */

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const samplePattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g;
const unescapeLabel = (text: string) =>
  text.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));

/** The samples of a metrics text; comments (`# HELP`, `# TYPE`) and lines that are no sample are skipped. */
export function parseMetricsText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = samplePattern.exec(line.trim());
    if (!match) continue;
    const [, name = '', labelText = '', valueText = ''] = match;
    const value = Number(valueText);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const [, key = '', raw = ''] of labelText.matchAll(labelPattern)) labels[key] = unescapeLabel(raw);
    samples.push({ name, labels, value });
  }
  return samples;
}

/** Traefik's name for a provider object: runs of anything but letters and digits become one `-`. */
const traefikName = (name: string) =>
  name
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .join('-');

/**
 * How each controller names the namespaces a request went to. Traefik's per-service counter names
 * the service `<namespace>-<service>-<port>@kubernetes` (services labels on) in its own spelling,
 * which can be the same for two namespaces (`a--b-c` and `a-b--c`): the count is given to both,
 * keeping both awake rather than putting a visited one to sleep. ingress-nginx's carries a
 * `namespace` label.
 */
const shapes: {
  metric: string;
  namespacesOf(labels: Record<string, string>, known: readonly string[]): string[];
}[] = [
  {
    metric: 'traefik_service_requests_total',
    namespacesOf(labels, known) {
      const service = labels.service;
      if (!service?.endsWith('@kubernetes')) return [];
      // Namespaces hold `-` too: the longest one the service name starts with is its own.
      let best = '';
      for (const namespace of known) {
        const spelt = traefikName(namespace);
        if (service.startsWith(`${spelt}-`) && spelt.length > best.length) best = spelt;
      }
      return best ? known.filter((namespace) => traefikName(namespace) === best) : [];
    },
  },
  {
    metric: 'nginx_ingress_controller_requests',
    namespacesOf: (labels, known) =>
      labels.namespace !== undefined && known.includes(labels.namespace) ? [labels.namespace] : [],
  },
];

/**
 * Requests served so far per host namespace in `namespaces`, summed over every series that names
 * it (status codes, methods, Ingresses). A namespace no series names is left out: no request yet.
 */
export function requestsByNamespace(text: string, namespaces: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sample of parseMetricsText(text)) {
    const shape = shapes.find((candidate) => candidate.metric === sample.name);
    for (const namespace of shape?.namespacesOf(sample.labels, namespaces) ?? []) {
      counts.set(namespace, (counts.get(namespace) ?? 0) + sample.value);
    }
  }
  return counts;
}
