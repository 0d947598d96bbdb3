import { randomBytes } from 'node:crypto';
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobIdFor } from '../desired-state.ts';
import { describeIssues, PREVIEW_JOB_NAME, type PreviewJob, previewJobSchema } from './preview-job.ts';
import { pingRedis, type RedisHandle, redisConnection } from './redis-connection.ts';
import { serializeByKey } from './serialize-by-key.ts';

/** Default BullMQ queue name of preview jobs. */
export const PREVIEW_QUEUE_NAME = 'previews';

export interface PreviewQueueOptions {
  /** `redis://…` URL (a client is opened and closed here) or an ioredis client (the caller's to close). */
  connection: string | Redis;
  /** BullMQ queue name; default `previews`. */
  name?: string;
  /** BullMQ key prefix; default BullMQ's `bull`. */
  prefix?: string;
  /** Tries per job, first one included; default 5. Rate-limit delays do not count. */
  attempts?: number;
  /** First retry after this long, doubling each time (2 s, 4 s, 8 s, 16 s); default 2000. */
  backoffMs?: number;
  /** How many finished jobs to keep for inspection; default 200 completed, 1000 failed, each at most a week. */
  keepCompleted?: number;
  keepFailed?: number;
}

/** What `enqueue` did with the new desired state. */
export type EnqueueOutcome =
  /** A new job waits (replacing a delayed one for this pull request, if there was one). */
  | 'added'
  /** A job for this pull request was already waiting; it now carries the new desired state. */
  | 'updated'
  /** A job for this pull request is running; the new desired state runs right after it. */
  | 'after-active';

export interface EnqueueResult {
  /** The BullMQ job that will carry this desired state. */
  jobId: string;
  outcome: EnqueueOutcome;
}

/** Where a pull request's work stands in the queue. */
export type QueuePlace =
  | { state: 'none' }
  /** `position` is 1 for the next job to start; `waiting` is how many wait in all. */
  | { state: 'waiting'; jobId: string; position: number; waiting: number }
  /** `next`: a newer desired state runs once this one finishes. */
  | { state: 'active'; jobId: string; next: boolean }
  /** Backing off after a failure or a rate limit, until `until` (epoch ms). */
  | { state: 'delayed'; jobId: string; until: number };

/**
 * After an add that BullMQ de-duplicated into `winner`: did the new job come to exist after all,
 * was it kept as the next job behind the active winner, or is the winner still waiting (then it
 * takes the new data; a pending next job, which is older, is dropped)? `retry` when the winner
 * moved on in between. Atomic, so a worker cannot pick the winner up half-updated.
 *
 * KEYS: de:<id>, wait, dn:<id>. ARGV: job key prefix, new job id, winner id, data.
 */
const SETTLE_SCRIPT = `
if redis.call('EXISTS', ARGV[1] .. ARGV[2]) == 1 then return 'added' end
if redis.call('HGET', KEYS[3], 'jid') == ARGV[2] then return 'after-active' end
local current = redis.call('GET', KEYS[1])
if current == ARGV[3] and redis.call('LPOS', KEYS[2], current) then
  redis.call('HSET', ARGV[1] .. current, 'data', ARGV[4])
  redis.call('DEL', KEYS[3])
  return 'updated'
end
return 'retry'
`;

/** KEYS: de:<id>, wait, active, delayed, dn:<id>. ARGV: job key prefix. */
const PLACE_SCRIPT = `
local id = redis.call('GET', KEYS[1])
if not id or redis.call('EXISTS', ARGV[1] .. id) == 0 then return {'none'} end
local pos = redis.call('LPOS', KEYS[2], id)
if pos then
  local waiting = redis.call('LLEN', KEYS[2])
  return {'waiting', id, waiting - pos, waiting}
end
if redis.call('LPOS', KEYS[3], id) then return {'active', id, redis.call('EXISTS', KEYS[5])} end
local score = redis.call('ZSCORE', KEYS[4], id)
if score then return {'delayed', id, score} end
return {'none'}
`;

const MAX_SETTLE_TRIES = 10;

/**
 * The queue of preview jobs, one logical job per pull request. BullMQ's deduplication (id from
 * `jobIdFor`, `keepLastIfActive`, `replace`) makes sure a pull request never has two jobs running
 * at once and at most one waiting; this class adds the piece BullMQ leaves out: a newer desired
 * state also replaces the data of a job that is already waiting, so the newest always wins.
 */
export class PreviewQueue {
  readonly queue: Queue<PreviewJob>;
  readonly name: string;
  private readonly redis: RedisHandle;
  private readonly jobOptions: Omit<JobsOptions, 'jobId' | 'deduplication'>;
  private readonly serial = serializeByKey();

  constructor(options: PreviewQueueOptions) {
    this.name = options.name ?? PREVIEW_QUEUE_NAME;
    this.redis = redisConnection(options.connection);
    this.queue = new Queue<PreviewJob>(this.name, {
      connection: this.redis.client,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
    this.jobOptions = {
      attempts: options.attempts ?? 5,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 2000 },
      removeOnComplete: { count: options.keepCompleted ?? 200, age: 7 * 24 * 3600 },
      removeOnFail: { count: options.keepFailed ?? 1000, age: 7 * 24 * 3600 },
    };
  }

  /** Whether Redis answers (for the readiness probe). */
  ping(): Promise<void> {
    return pingRedis(this.redis.client);
  }

  /** The de-duplication id of a pull request's jobs: `jobIdFor(repo, pr)`. */
  static deduplicationId(repo: string, pr: number): string {
    return jobIdFor(repo, pr);
  }

  /**
   * Asks for `job.desired` on that pull request. Calls for one pull request are applied in call
   * order, so the last call's desired state is the one that runs last.
   */
  async enqueue(job: PreviewJob): Promise<EnqueueResult> {
    const parsed = previewJobSchema.safeParse(job);
    if (!parsed.success) throw new TypeError(`invalid preview job: ${describeIssues(parsed.error)}`);
    const data = parsed.data;
    const id = PreviewQueue.deduplicationId(data.repo, data.pr);
    return this.serial(id, () => this.enqueueOne(id, data));
  }

  /**
   * Asks for `job.desired` only if this pull request has no job at all (waiting, running or backing
   * off), for the sweeper: one BullMQ add with plain de-duplication, so atomic, and a push that
   * arrives during a sweep is never overruled by it. Answers the new job's id, or undefined.
   */
  async enqueueIfIdle(job: PreviewJob): Promise<string | undefined> {
    const parsed = previewJobSchema.safeParse(job);
    if (!parsed.success) throw new TypeError(`invalid preview job: ${describeIssues(parsed.error)}`);
    const data = parsed.data;
    const id = PreviewQueue.deduplicationId(data.repo, data.pr);
    return this.serial(id, async () => {
      const jobId = `${id}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
      const added = await this.queue.add(PREVIEW_JOB_NAME, data, {
        ...this.jobOptions,
        jobId,
        deduplication: { id },
      });
      return added.id === jobId ? jobId : undefined;
    });
  }

  private async enqueueOne(id: string, data: PreviewJob): Promise<EnqueueResult> {
    for (let attempt = 0; attempt < MAX_SETTLE_TRIES; attempt++) {
      // Unique per enqueue: when keepLastIfActive turns the kept data into a job, its id must not
      // be that of the job that just finished (which stays in the completed set for a while).
      const jobId = `${id}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
      const added = await this.queue.add(PREVIEW_JOB_NAME, data, {
        ...this.jobOptions,
        jobId,
        // `replace` swaps a delayed job (backing off, rate limited) for this one; `keepLastIfActive`
        // keeps the newest data while one runs, and starts it when that one finishes.
        deduplication: { id, keepLastIfActive: true, replace: true },
      });
      if (added.id === jobId) return { jobId, outcome: 'added' };
      const outcome = (await this.redis.client.eval(
        SETTLE_SCRIPT,
        3,
        this.deduplicationKey(id),
        this.queue.keys.wait!,
        this.nextKey(id),
        this.jobKeyPrefix,
        jobId,
        String(added.id),
        JSON.stringify(data),
      )) as 'added' | 'after-active' | 'updated' | 'retry';
      if (outcome === 'added' || outcome === 'after-active') return { jobId, outcome };
      if (outcome === 'updated') return { jobId: String(added.id), outcome };
    }
    throw new Error(
      `could not enqueue ${data.repo}#${data.pr}: its job kept changing state (${MAX_SETTLE_TRIES} tries)`,
    );
  }

  /** Where this pull request's work stands: waiting (and at which place), running, backing off, or none. */
  async place(repo: string, pr: number): Promise<QueuePlace> {
    const id = PreviewQueue.deduplicationId(repo, pr);
    const keys = this.queue.keys;
    const reply = (await this.redis.client.eval(
      PLACE_SCRIPT,
      5,
      this.deduplicationKey(id),
      keys.wait!,
      keys.active!,
      keys.delayed!,
      this.nextKey(id),
      this.jobKeyPrefix,
    )) as [string, string?, number?, number?] | [string, string, string];
    const [state, jobId] = reply;
    if (state === 'waiting' && jobId) {
      return { state, jobId, position: Number(reply[2]), waiting: Number(reply[3]) };
    }
    if (state === 'active' && jobId) return { state, jobId, next: Number(reply[2]) === 1 };
    // Delayed scores are the due time × 4096 plus a tie-breaker.
    if (state === 'delayed' && jobId) return { state, jobId, until: Math.floor(Number(reply[2]) / 0x1000) };
    return { state: 'none' };
  }

  /** 1-based place of this pull request's job among the waiting jobs ("number N in the queue"). */
  async position(repo: string, pr: number): Promise<number | undefined> {
    const place = await this.place(repo, pr);
    return place.state === 'waiting' ? place.position : undefined;
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.redis.release();
  }

  /** `bull:<name>:`, the prefix of every job's hash key. */
  private get jobKeyPrefix(): string {
    return this.queue.toKey('');
  }

  private deduplicationKey(id: string): string {
    return this.queue.toKey(`de:${id}`);
  }

  /** Where BullMQ keeps the newest data that arrived while a job was active (keepLastIfActive). */
  private nextKey(id: string): string {
    return this.queue.toKey(`dn:${id}`);
  }
}
