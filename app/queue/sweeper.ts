import { type Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { type RedisHandle, redisConnection } from './redis-connection.ts';

/** Default queue name of sweep jobs, apart from the preview jobs so a sweep never waits behind a deploy. */
export const SWEEP_QUEUE_NAME = 'preview-sweeps';
export const SWEEP_SCHEDULER_ID = 'sweep';
export const SWEEP_JOB_NAME = 'sweep';

export interface SweepContext {
  log: Logger;
  signal: AbortSignal;
  jobId: string;
}

/** Deletes or pauses what should no longer run; reads what exists from the host cluster. Idempotent. */
export type Sweep = (context: SweepContext) => Promise<unknown>;

export interface SweeperOptions {
  /** Redis for the sweep worker: `redis://…` URL or an ioredis client with `maxRetriesPerRequest: null`. */
  connection: string | Redis;
  sweep: Sweep;
  logger?: Logger;
  /** Default `sweep`. */
  schedulerId?: string;
}

export interface Sweeper {
  readonly worker: Worker;
  /** Stops this process's sweep worker (after a running sweep). The schedule stays in Redis. */
  close(options?: { removeSchedule?: boolean }): Promise<void>;
}

/**
 * Schedules a `sweep` job every `everyMs` on `queue` (BullMQ job scheduler: upserted, so every
 * replica may call this at start and there is still one schedule) and runs the injected sweep for
 * each, one at a time in this process.
 */
export async function registerSweeper(
  queue: Queue,
  everyMs: number,
  options: SweeperOptions,
): Promise<Sweeper> {
  const schedulerId = options.schedulerId ?? SWEEP_SCHEDULER_ID;
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  await queue.upsertJobScheduler(
    schedulerId,
    { every: everyMs },
    {
      name: SWEEP_JOB_NAME,
      data: {},
      opts: { removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
    },
  );
  const redis: RedisHandle = redisConnection(options.connection);
  const worker = new Worker(
    queue.name,
    async (job, _token, signal) => {
      const log = logger.child({ jobId: job.id, sweep: schedulerId });
      const started = Date.now();
      try {
        const result = await options.sweep({
          log,
          signal: signal ?? new AbortController().signal,
          jobId: String(job.id),
        });
        log.debug({ durationMs: Date.now() - started }, 'sweep done');
        return result;
      } catch (error) {
        // The next scheduled sweep is the retry.
        log.error({ durationMs: Date.now() - started, err: error }, 'sweep failed');
        throw error;
      }
    },
    {
      connection: redis.client,
      ...(queue.opts.prefix ? { prefix: queue.opts.prefix } : {}),
      concurrency: 1,
    },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'sweep worker error'));
  return {
    worker,
    async close({ removeSchedule = false } = {}) {
      await worker.close();
      if (removeSchedule) await queue.removeJobScheduler(schedulerId);
      await redis.release();
    },
  };
}
