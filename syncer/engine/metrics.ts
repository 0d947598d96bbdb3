import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';

/** The syncer's Prometheus metrics, one registry per syncer so two in one process stay apart. */
export class SyncerMetrics {
  readonly registry = new Registry();
  readonly queueDepth = new Gauge({
    name: 'vcluster_syncer_queue_depth',
    help: 'Keys waiting in the work queue, per kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly syncLatency = new Histogram({
    name: 'vcluster_syncer_sync_latency_seconds',
    help: 'Time from a key being queued to its reconcile finishing, per kind',
    labelNames: ['kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  /**
   * Where a reconcile's time goes, per kind and phase: `queue` (key queued → a worker takes it,
   * labelled with what the reconcile then did), and the calls a kind times itself (a pod's
   * `references`, `token`, `host-create`, `status`, `binding`). Quantiles, so a benchmark reads
   * medians from /metrics without bucket guesswork.
   */
  readonly phaseSeconds = new Summary({
    name: 'vcluster_syncer_phase_seconds',
    help: 'Time of one phase of a reconcile, per kind, phase and (for the queue) the action that followed',
    labelNames: ['kind', 'phase', 'action'],
    percentiles: [0.5, 0.9, 0.99],
    registers: [this.registry],
  });
  readonly syncs = new Counter({
    name: 'vcluster_syncer_syncs_total',
    help: 'Reconciles that changed something, per kind and action',
    labelNames: ['kind', 'action'],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'vcluster_syncer_errors_total',
    help: 'Failed reconciles, per kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly watchErrors = new Counter({
    name: 'vcluster_syncer_watch_errors_total',
    help: 'Failed lists or watches, per informer',
    labelNames: ['informer'],
    registers: [this.registry],
  });
}

/** Runs `work` and records how long it took as one phase of a reconcile of `kind`, failed or not. */
export async function timePhase<T>(
  metrics: SyncerMetrics,
  kind: string,
  phase: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    metrics.phaseSeconds.observe({ kind, phase, action: '' }, (performance.now() - started) / 1000);
  }
}
