import { requestsByNamespace } from './traffic-metrics.ts';

/**
 * Where the sweep learns whether a preview was visited: the requests an ingress controller served
 * so far per host namespace. Undefined means "no traffic information this time" (no metrics URL, or
 * it did not answer): the sweep then judges by pushes and deploys alone, as without one.
 */
export type TrafficSource = (namespaces: readonly string[]) => Promise<Map<string, number> | undefined>;

/** The annotation on a preview's host namespace with the request count the sweep saw last. */
export const REQUESTS_SEEN_ANNOTATION = 'vcluster-preview.dev/requests-seen';

/**
 * Whether requests came since the sweep last looked (pure): the count grew, or the controller
 * restarted (its counters start again from 0) and served some since. A first count above 0 is a
 * visit too: the counter exists only once a request came.
 */
export function sawRequests(previous: string | undefined, current: number | undefined): boolean {
  if (current === undefined || current <= 0) return false;
  const before = previous === undefined ? Number.NaN : Number(previous);
  return Number.isNaN(before) || current !== before;
}

export interface MetricsTrafficOptions {
  /** The controller's Prometheus endpoint (`PREVIEW_TRAFFIC_METRICS_URL`). */
  url: string;
  log: { warn(details: object, message: string): void; info(details: object, message: string): void };
  timeoutMs?: number;
}

/**
 * A traffic source reading an ingress controller's Prometheus metrics. A failure is logged once
 * (and once more when it answers again), never thrown: a sweep must not fail over visits.
 */
export function metricsTrafficSource(options: MetricsTrafficOptions): TrafficSource {
  let failing = false;
  return async (namespaces) => {
    try {
      const response = await fetch(options.url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
      if (!response.ok) throw new Error(`it answered HTTP ${response.status}`);
      const counts = requestsByNamespace(await response.text(), namespaces);
      if (failing) options.log.info({ url: options.url }, 'the traffic metrics answer again');
      failing = false;
      return counts;
    } catch (error) {
      if (!failing) {
        options.log.warn(
          { url: options.url, err: error },
          'cannot read the traffic metrics (PREVIEW_TRAFFIC_METRICS_URL): previews are judged idle by pushes alone until they answer',
        );
      }
      failing = true;
      return undefined;
    }
  };
}
