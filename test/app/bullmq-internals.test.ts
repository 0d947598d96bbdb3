import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '../../kube/wait.ts';

/**
 * What app/queue/preview-queue.ts's Lua scripts read of BullMQ's own keys (package.json pins BullMQ's
 * exact version for them): the de-duplication key `de:<id>` holds the winning job's id, the data
 * kept while a job runs (`keepLastIfActive`) sits in the hash `dn:<id>` with its `jid`, and a delayed
 * job's score is its due time × 0x1000 plus a tie-breaker. An upgrade that changes any of these
 * fails here, before the queue silently stops replacing waiting jobs or placing them in line.
 */

const redisUrl = inject('redisUrl');

describe('the BullMQ internals the preview queue relies on', () => {
  const name = `bullmq-internals-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: redis });
  let worker: Worker | undefined;

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await queue.obliterate({ force: true });
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
  });

  it('de:<id> names the winning job; dn:<id> keeps the newest data while one runs, with its jid', async () => {
    const dedup = { id: 'pr-acme--shop-7', keepLastIfActive: true, replace: true };
    await queue.add('preview', { n: 1 }, { jobId: 'pr-acme--shop-7-a', deduplication: dedup });
    expect(await redis.get(queue.toKey(`de:${dedup.id}`))).toBe('pr-acme--shop-7-a');
    expect(await redis.lpos(queue.keys.wait!, 'pr-acme--shop-7-a')).not.toBeNull();

    let release: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      release = resolve;
    });
    worker = new Worker(name, () => running, { connection: { url: redisUrl } });
    await waitUntil(
      async () => (await redis.lpos(queue.keys.active!, 'pr-acme--shop-7-a')) !== null || undefined,
      {
        what: 'the first job to run',
        timeoutMs: 10_000,
        intervalMs: 25,
      },
    );
    const kept = await queue.add('preview', { n: 2 }, { jobId: 'pr-acme--shop-7-b', deduplication: dedup });
    // BullMQ answers with the running winner, and keeps the new job's id and data aside.
    expect(kept.id).toBe('pr-acme--shop-7-a');
    expect(await redis.hget(queue.toKey(`dn:${dedup.id}`), 'jid')).toBe('pr-acme--shop-7-b');
    release();
  });

  it('a delayed job scores its due time × 0x1000', async () => {
    const before = Date.now();
    await queue.add('preview', { n: 1 }, { jobId: 'delayed-1', delay: 60_000 });
    const score = Number(await redis.zscore(queue.keys.delayed!, 'delayed-1'));
    const due = Math.floor(score / 0x1000);
    expect(due).toBeGreaterThanOrEqual(before + 60_000);
    expect(due).toBeLessThan(Date.now() + 60_000 + 1000);
  });
});
