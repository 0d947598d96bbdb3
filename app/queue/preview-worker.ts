import { DelayedError, type Job, type JobProgress, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { WaitingForChecksError } from '../errors/waiting-for-checks-error.ts';
import { WaitingForSlotError } from '../errors/waiting-for-slot-error.ts';
import type { ServiceMetrics } from '../metrics.ts';
import { classifyError } from './classify-error.ts';
import { type PreviewJob, parsePreviewJob } from './preview-job.ts';
import { PREVIEW_QUEUE_NAME } from './preview-queue.ts';
import { pingRedis, type RedisHandle, redisConnection } from './redis-connection.ts';

export interface ReconcileContext {
  /** pino child logger with `jobId`, `repo`, `pr`, `desired` and `attempt`. */
  log: Logger;
  /** Records progress on the job (a step checklist, a percentage) for whoever watches it. */
  progress(progress: JobProgress): Promise<void>;
  /** Aborted when this worker lost the job (its lock expired, so another worker may run it). */
  signal: AbortSignal;
  jobId: string;
  /** 1 for the first try, 2 for the first retry, … (rate-limit delays do not count). */
  attempt: number;
  /** Tries left after this one should it fail: 0 on the last, whose failure is final. */
  attemptsLeft: number;
}

/** Brings one pull request's preview to `job.desired`. Must be idempotent: it may run again after a crash. */
export type Reconcile = (job: PreviewJob, context: ReconcileContext) => Promise<unknown>;

export interface PreviewWorkerOptions {
  /** `redis://…` URL (a client is opened and closed here) or an ioredis client with `maxRetriesPerRequest: null`. */
  connection: string | Redis;
  reconcile: Reconcile;
  /** Same as the PreviewQueue's; default `previews`. */
  queueName?: string;
  prefix?: string;
  /** Jobs run at once by this worker (always for different pull requests); default 2. */
  concurrency?: number;
  /** Default: a pino logger at `LOG_LEVEL` (info). */
  logger?: Logger;
  /**
   * How long a job's lock lasts without renewal; a worker that dies leaves its job locked this long.
   * Default 30 000 (BullMQ's); tests use less.
   */
  lockDurationMs?: number;
  /**
   * How often this worker looks for jobs whose worker died; default 30 000 (BullMQ's). Give every
   * worker of a queue the same value: a check holds off the other workers' checks for this long.
   */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails; default 2. */
  maxStalledCount?: number;
  /** Longest wait a `retry-after` may impose; longer ones are cut to this. Default one hour. */
  maxRateLimitDelayMs?: number;
  /** Start taking jobs at once; default true. */
  autorun?: boolean;
  /** Where job counts and durations are recorded (served at the worker's `/metrics`). */
  metrics?: ServiceMetrics;
}

const describeDesired = (job: PreviewJob): string => {
  const { desired } = job;
  return 'sha' in desired ? `${desired.kind}@${desired.sha.slice(0, 7)}` : desired.kind;
};

/**
 * Takes preview jobs off the queue and runs the injected reconcile. Errors decide what happens next:
 * `UnrecoverableError` (and `BadConfigError`, a config file error, an invalid request) fails the
 * job at once; a rate limit puts it back for the time asked, without using up an attempt;
 * anything else is retried with the queue's exponential backoff.
 */
export class PreviewWorker {
  readonly worker: Worker<PreviewJob>;
  private readonly redis: RedisHandle;
  private readonly logger: Logger;
  private readonly maxRateLimitDelayMs: number;

  constructor(private readonly options: PreviewWorkerOptions) {
    this.redis = redisConnection(options.connection);
    this.logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
    this.maxRateLimitDelayMs = options.maxRateLimitDelayMs ?? 3_600_000;
    this.worker = new Worker<PreviewJob>(
      options.queueName ?? PREVIEW_QUEUE_NAME,
      // Three parameters: BullMQ hands an abort signal only to processors that take one.
      (job, token, signal) => this.process(job, token, signal),
      {
        connection: this.redis.client,
        ...(options.prefix ? { prefix: options.prefix } : {}),
        concurrency: options.concurrency ?? 2,
        lockDuration: options.lockDurationMs ?? 30_000,
        stalledInterval: options.stalledIntervalMs ?? 30_000,
        maxStalledCount: options.maxStalledCount ?? 2,
        autorun: options.autorun ?? true,
      },
    );
    this.worker.on('error', (error) => this.logger.error({ err: error }, 'preview worker error'));
    this.worker.on('stalled', (jobId) =>
      this.logger.warn({ jobId }, 'job stalled (its worker died or hung); it runs again'),
    );
    this.worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const jobId of jobIds) this.worker.cancelJob(jobId, 'lost the job lock');
    });
  }

  /** Whether Redis answers (for the readiness probe). */
  ping(): Promise<void> {
    return pingRedis(this.redis.client);
  }

  /** Starts taking jobs, for a worker made with `autorun: false`. */
  run(): void {
    void this.worker.run();
  }

  /** Stops taking jobs, waits for the running ones to finish, then disconnects. */
  async close(): Promise<void> {
    await this.worker.close();
    await this.redis.release();
  }

  private async process(
    job: Job<PreviewJob>,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const jobId = String(job.id);
    const attempt = job.attemptsMade + 1;
    const attemptsLeft = Math.max(0, (job.opts.attempts ?? 1) - attempt);
    let payload: PreviewJob;
    try {
      payload = parsePreviewJob(job.data, jobId);
    } catch (error) {
      this.logger.error({ jobId, err: error }, 'malformed preview job; failing it');
      throw error;
    }
    const log = this.logger.child({
      jobId,
      repo: payload.repo,
      pr: payload.pr,
      desired: describeDesired(payload),
      attempt,
    });
    const started = Date.now();
    const kind = payload.desired.kind;
    const metrics = this.options.metrics;
    const count = (outcome: 'done' | 'retry' | 'failed' | 'delayed') => {
      metrics?.jobs.inc({ kind, outcome });
      metrics?.jobDuration.observe({ kind }, (Date.now() - started) / 1000);
    };
    log.info('reconcile started');
    try {
      const result = await this.options.reconcile(payload, {
        log,
        progress: (progress) => job.updateProgress(progress),
        signal: signal ?? new AbortController().signal,
        jobId,
        attempt,
        attemptsLeft,
      });
      log.info({ durationMs: Date.now() - started }, 'reconcile done');
      count('done');
      // job.timestamp: when the webhook or API call queued it (a newer push replaces the job).
      if (kind === 'up' || kind === 'reset' || kind === 'redeploy')
        metrics?.enqueueToUrl.observe((Date.now() - job.timestamp) / 1000);
      return result;
    } catch (error) {
      const verdict = classifyError(error);
      const durationMs = Date.now() - started;
      if (verdict.kind === 'rate-limited' && token) {
        const delayMs = Math.min(verdict.retryAfterMs, this.maxRateLimitDelayMs);
        // Waiting for a preview slot, or for CI checks, is the service working as meant, not trouble.
        if (error instanceof WaitingForSlotError) {
          log.info({ durationMs, delayMs, place: error.place }, 'waiting for a preview slot; job put back');
        } else if (error instanceof WaitingForChecksError) {
          log.info({ durationMs, delayMs, checks: error.checks }, 'waiting for CI checks; job put back');
        } else {
          log.warn({ durationMs, delayMs, reason: verdict.reason }, 'rate limited; job put back');
        }
        count('delayed');
        if (error instanceof WaitingForSlotError) metrics?.slotWaits.inc();
        else if (!(error instanceof WaitingForChecksError)) metrics?.rateLimitWaits.inc();
        // Not a failed attempt: the job goes back to delayed with its attempts untouched.
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError(`rate limited: ${verdict.reason}; retry in ${delayMs} ms`);
      }
      if (verdict.kind === 'unrecoverable') {
        log.error({ durationMs, err: error }, 'reconcile failed; a retry cannot fix this');
        count('failed');
        if (error instanceof UnrecoverableError) throw error;
        throw new UnrecoverableError(verdict.reason);
      }
      count(attemptsLeft > 0 ? 'retry' : 'failed');
      log.warn(
        { durationMs, err: error, attemptsLeft },
        attemptsLeft > 0 ? 'reconcile failed; will retry' : 'reconcile failed; no attempts left',
      );
      throw error;
    }
  }
}
