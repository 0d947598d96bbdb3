import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the queue gauge reads at each scrape: job counts by BullMQ state. */
export type QueueCounts = () => Promise<Record<string, number>>;
/** What the previews gauge reads at each scrape: live previews by state (running, paused, …). */
export type PreviewCounts = () => Promise<Record<string, number>>;

/**
 * The service's Prometheus metrics, one registry per process (web or worker), served at `/metrics`.
 * Gauges of the queue and of the previews are read when scraped, not kept up to date.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly jobs = new Counter({
    name: 'vcluster_preview_jobs_total',
    help: 'Preview jobs run, by desired state (up, down, reset, …) and outcome (done, retry, failed, delayed)',
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'vcluster_preview_job_duration_seconds',
    help: 'Time one attempt of a preview job took, by desired state',
    labelNames: ['kind'],
    buckets: [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  readonly enqueueToUrl = new Histogram({
    name: 'vcluster_preview_enqueue_to_url_seconds',
    help: 'From the webhook or API call that queued an up or reset to its preview URL being reported',
    buckets: [1, 2.5, 5, 10, 15, 20, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  readonly slotWaits = new Counter({
    name: 'vcluster_preview_slot_waits_total',
    help: 'Jobs put back because a cap on live previews (MAX_PREVIEWS…) was reached',
    registers: [this.registry],
  });
  readonly githubRequests = new Counter({
    name: 'vcluster_preview_github_requests_total',
    help: 'GitHub API requests this process made, by method and HTTP status',
    labelNames: ['method', 'status'],
    registers: [this.registry],
  });
  readonly githubRateLimited = new Counter({
    name: 'vcluster_preview_github_rate_limited_total',
    help: 'GitHub API answers that asked to slow down (primary or secondary rate limit)',
    registers: [this.registry],
  });
  readonly rateLimitWaits = new Counter({
    name: 'vcluster_preview_rate_limit_waits_total',
    help: 'Jobs put back because GitHub or the host cluster asked to slow down',
    registers: [this.registry],
  });

  /** Adds the gauges read at scrape time: the queue's jobs by state, and the previews by state. */
  observe(sources: { queue?: QueueCounts; previews?: PreviewCounts }): void {
    const gauge = (name: string, help: string, label: string, read: () => Promise<Record<string, number>>) =>
      new Gauge({
        name,
        help,
        labelNames: [label],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const [value, count] of Object.entries(await read())) this.set({ [label]: value }, count);
        },
      });
    if (sources.queue)
      gauge('vcluster_preview_queue_jobs', 'Jobs in the queue, by BullMQ state', 'state', sources.queue);
    if (sources.previews)
      gauge('vcluster_preview_previews', 'Previews on the host cluster, by state', 'state', sources.previews);
  }
}

/** A Probot server handler for `GET /metrics` in Prometheus' text format. */
export function metricsHandler(registry: Registry) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') return false;
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    return true;
  };
}

interface RequestOptions {
  method?: string;
}
interface OctokitLike {
  hook: {
    after(name: 'request', hook: (response: { status: number }, options: RequestOptions) => void): void;
    error(name: 'request', hook: (error: unknown, options: RequestOptions) => unknown): void;
  };
}

/**
 * An Octokit plugin that counts the service's GitHub API calls by method and status, and the
 * answers that asked it to slow down (403/429 with no requests left or a `retry-after`).
 * Given to Probot as `Octokit: ProbotOctokit.plugin(githubMetricsPlugin(metrics))`.
 */
export function githubMetricsPlugin(metrics: ServiceMetrics) {
  return (octokit: OctokitLike): void => {
    octokit.hook.after('request', (response, options) => {
      metrics.githubRequests.inc({ method: options.method ?? 'GET', status: String(response.status) });
    });
    octokit.hook.error('request', (error, options) => {
      const { status, response } = (error ?? {}) as {
        status?: number;
        response?: { headers?: Record<string, string | undefined> };
      };
      metrics.githubRequests.inc({ method: options.method ?? 'GET', status: String(status ?? 'error') });
      const headers = response?.headers ?? {};
      if (
        (status === 403 || status === 429) &&
        (headers['retry-after'] || headers['x-ratelimit-remaining'] === '0')
      )
        metrics.githubRateLimited.inc();
      throw error;
    });
  };
}
