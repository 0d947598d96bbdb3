import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { BadConfigError } from '../../app/errors/bad-config-error.ts';
import { RateLimitedError } from '../../app/errors/rate-limited-error.ts';
import type { PreviewJob } from '../../app/queue/preview-job.ts';
import { PreviewQueue, type PreviewQueueOptions } from '../../app/queue/preview-queue.ts';
import { PreviewWorker, type PreviewWorkerOptions } from '../../app/queue/preview-worker.ts';
import { registerSweeper } from '../../app/queue/sweeper.ts';
import { waitUntil } from '../../kube/wait.ts';

const redisUrl = inject('redisUrl');
const root = new URL('../../', import.meta.url).pathname;

const sha = (n: number) => String(n).repeat(40);
const up = (n: number, pr = 7, repo = 'acme/shop'): PreviewJob => ({
  repo,
  pr,
  desired: { kind: 'up', sha: sha(n) },
  installationId: 1,
  requestedBy: 'octocat',
});
const shaOf = (job: PreviewJob) => ('sha' in job.desired ? job.desired.sha : job.desired.kind);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const silent = pino({ level: 'silent' });

/** kube/wait.ts's waitUntil with this file's short interval; a probe's falsy answer means "not yet". */
const waitFor = <T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 25 } = {},
) =>
  waitUntil(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs }) as Promise<
    NonNullable<T>
  >;

/** Run in reverse order after each test: workers close before their queue is obliterated. */
let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  const pending = cleanups.reverse();
  cleanups = [];
  for (const cleanup of pending) await cleanup();
});

function setup(queueOptions: Partial<PreviewQueueOptions> = {}) {
  const name = `test-previews-${randomBytes(4).toString('hex')}`;
  const queue = new PreviewQueue({ connection: redisUrl, name, backoffMs: 100, ...queueOptions });
  cleanups.push(async () => {
    await queue.queue.obliterate({ force: true });
    await queue.close();
  });
  const worker = (options: Omit<PreviewWorkerOptions, 'connection'>) => {
    const previewWorker = new PreviewWorker({
      connection: redisUrl,
      queueName: name,
      logger: silent,
      ...options,
    });
    cleanups.push(() => previewWorker.close());
    return previewWorker;
  };
  const stateOf = async (jobId: string) => (await queue.queue.getJobState(jobId)) as string;
  const jobOf = async (jobId: string) => {
    const job = await queue.queue.getJob(jobId);
    if (!job) throw new Error(`job ${jobId} is gone`);
    return job;
  };
  return { name, queue, worker, stateOf, jobOf };
}

interface Run {
  pr: number;
  sha: string;
  start: number;
  end?: number;
}

/** A reconcile that takes `ms` and records when each run started and ended. */
function recordingReconcile(ms: number) {
  const runs: Run[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const reconcile = async (job: PreviewJob) => {
    const run: Run = { pr: job.pr, sha: shaOf(job), start: Date.now() };
    runs.push(run);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await sleep(ms);
    inFlight--;
    run.end = Date.now();
  };
  return { runs, reconcile, maxInFlight: () => maxInFlight };
}

const overlapping = (runs: Run[]) =>
  runs.some((a, i) =>
    runs.some((b, j) => i !== j && a.start < (b.end ?? Infinity) && b.start < (a.end ?? Infinity)),
  );

describe('PreviewQueue + PreviewWorker (real Redis)', () => {
  it('collapses a burst for one pull request while it deploys: at most two runs, never at once, the newest last', async () => {
    const { queue, worker } = setup();
    const { runs, reconcile } = recordingReconcile(700);
    worker({ concurrency: 4, reconcile });

    await queue.enqueue(up(1));
    await waitFor('the first run to start', () => runs.length === 1);
    const burst = await Promise.all([2, 3, 4, 5].map((n) => queue.enqueue(up(n))));
    expect(burst.map((result) => result.outcome)).toEqual([
      'after-active',
      'after-active',
      'after-active',
      'after-active',
    ]);
    expect(await queue.place('acme/shop', 7)).toMatchObject({ state: 'active', next: true });

    await waitFor('the second run to end', () => runs.length === 2 && runs[1]?.end);
    await sleep(500); // room for a third run, which must not come
    expect(runs.map((run) => run.sha)).toEqual([sha(1), sha(5)]);
    expect(overlapping(runs)).toBe(false);
    expect(await queue.place('acme/shop', 7)).toEqual({ state: 'none' });
  });

  it('collapses a burst that arrives all at once, with the worker already running', async () => {
    const { queue, worker } = setup();
    const { runs, reconcile } = recordingReconcile(400);
    worker({ concurrency: 4, reconcile });

    await Promise.all([1, 2, 3, 4, 5].map((n) => queue.enqueue(up(n))));
    await waitFor('the last run to be sha 5 and end', () => runs.at(-1)?.sha === sha(5) && runs.at(-1)?.end);
    await sleep(500);
    expect(runs.length).toBeLessThanOrEqual(2);
    expect(runs.at(-1)?.sha).toBe(sha(5));
    expect(overlapping(runs)).toBe(false);
  });

  it('gives a job that is still waiting the newest desired state, and tells its place in the queue', async () => {
    const { queue, worker } = setup();
    const first = await queue.enqueue(up(1, 1));
    await queue.enqueue(up(1, 2));
    await queue.enqueue(up(1, 3));
    expect(first.outcome).toBe('added');
    expect(await queue.position('acme/shop', 1)).toBe(1);
    expect(await queue.position('acme/shop', 3)).toBe(3);
    expect(await queue.place('acme/shop', 2)).toMatchObject({ state: 'waiting', position: 2, waiting: 3 });
    expect(await queue.position('acme/shop', 99)).toBeUndefined();
    expect(await queue.place('acme/shop', 99)).toEqual({ state: 'none' });

    for (const n of [2, 3, 4, 5]) {
      expect(await queue.enqueue(up(n, 1))).toEqual({ jobId: first.jobId, outcome: 'updated' });
    }
    // Still first in line, still one job.
    expect(await queue.position('acme/shop', 1)).toBe(1);
    expect(await queue.queue.getWaitingCount()).toBe(3);

    const { runs, reconcile } = recordingReconcile(50);
    worker({ concurrency: 1, reconcile });
    await waitFor('three runs', () => runs.filter((run) => run.end).length === 3);
    await sleep(300);
    expect(runs.map((run) => [run.pr, run.sha])).toEqual([
      [1, sha(5)],
      [2, sha(1)],
      [3, sha(1)],
    ]);
  });

  it('replaces a job that backs off after a failure with the newer desired state', async () => {
    const { queue, worker, stateOf } = setup({ backoffMs: 60_000 });
    const runs: string[] = [];
    worker({
      reconcile: async (job) => {
        runs.push(shaOf(job));
        if (runs.length === 1) throw new Error('API server not ready');
      },
    });
    const first = await queue.enqueue(up(1));
    await waitFor(
      'the first try to fail and back off',
      async () => (await stateOf(first.jobId)) === 'delayed',
    );
    const second = await queue.enqueue(up(2));
    expect(second.outcome).toBe('added');
    await waitFor('the newer job to complete', async () => (await stateOf(second.jobId)) === 'completed');
    expect(await stateOf(first.jobId)).toBe('unknown'); // removed, not left to run in a minute
    expect(runs).toEqual([sha(1), sha(2)]);
  });

  it('runs jobs of different pull requests side by side, up to the concurrency', async () => {
    const { queue, worker, jobOf } = setup();
    const { runs, reconcile, maxInFlight } = recordingReconcile(500);
    const ids = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(async (pr) => (await queue.enqueue(up(1, pr))).jobId),
    );
    worker({
      concurrency: 3,
      reconcile: async (job, context) => {
        await context.progress({ step: 'deploy', pr: job.pr });
        await reconcile(job);
        return { url: `https://pr-${job.pr}.example.test` };
      },
    });
    await waitFor('six runs', () => runs.filter((run) => run.end).length === 6);
    expect(maxInFlight()).toBe(3);
    // Side by side: the first three all started before any of them ended.
    const firstThree = runs.slice(0, 3);
    expect(Math.max(...firstThree.map((run) => run.start))).toBeLessThan(
      Math.min(...firstThree.map((run) => run.end ?? Number.POSITIVE_INFINITY)),
    );
    const job = await waitFor('job 1 completed', async () => {
      const found = await jobOf(ids[0]!);
      return found.finishedOn ? found : undefined;
    });
    expect(job.returnvalue).toEqual({ url: 'https://pr-1.example.test' });
    expect(job.progress).toEqual({ step: 'deploy', pr: 1 });
  });
});

describe('errors', () => {
  it('fails an UnrecoverableError at once, with the reason on the job', async () => {
    const { queue, worker, stateOf, jobOf } = setup();
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    let calls = 0;
    worker({
      logger: pino({ level: 'info' }, sink),
      reconcile: async () => {
        calls++;
        throw new BadConfigError(
          '.github/vcluster-preview.yml:4: expose.port: expected a number',
          'use 8080',
        );
      },
    });
    const { jobId } = await queue.enqueue(up(1));
    await waitFor('the job to fail', async () => (await stateOf(jobId)) === 'failed');
    const job = await jobOf(jobId);
    expect(calls).toBe(1);
    expect(job.attemptsMade).toBe(1);
    expect(job.opts.attempts).toBe(5);
    expect(job.failedReason).toBe(
      '.github/vcluster-preview.yml:4: expose.port: expected a number (use 8080)',
    );
    // One child logger per job, carrying repo and pull request.
    const failure = lines.find((line) => line.msg === 'reconcile failed; a retry cannot fix this');
    expect(failure).toMatchObject({ repo: 'acme/shop', pr: 7, jobId, desired: 'up@1111111', attempt: 1 });
  });

  it('fails a malformed job at once without running reconcile', async () => {
    const { queue, worker, stateOf, jobOf } = setup();
    let calls = 0;
    worker({
      reconcile: async () => {
        calls++;
      },
    });
    const job = await queue.queue.add('preview', { repo: 'not a repo', pr: 7 } as unknown as PreviewJob, {
      attempts: 5,
    });
    await waitFor('the job to fail', async () => (await stateOf(String(job.id))) === 'failed');
    const failed = await jobOf(String(job.id));
    expect(calls).toBe(0);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/^malformed preview job .*repo: expected owner\/name.*desired:/);
  });

  it('retries a transient error with backoff and then succeeds', async () => {
    const { queue, worker, stateOf, jobOf } = setup({ backoffMs: 150 });
    const attempts: { attempt: number; attemptsLeft: number; at: number }[] = [];
    worker({
      reconcile: async (_job, { attempt, attemptsLeft }) => {
        attempts.push({ attempt, attemptsLeft, at: Date.now() });
        if (attempts.length <= 2) {
          throw Object.assign(new Error('Service Unavailable'), {
            status: 503,
            response: { status: 503, headers: {} },
          });
        }
        return 'ok';
      },
    });
    const { jobId } = await queue.enqueue(up(1));
    await waitFor('the job to complete', async () => (await stateOf(jobId)) === 'completed');
    const job = await jobOf(jobId);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Five attempts in all: the reconciler knows how many tries would follow a failure.
    expect(attempts.map((a) => a.attemptsLeft)).toEqual([4, 3, 2]);
    // Exponential: 150 ms, then 300 ms.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(140);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(290);
    expect(job.returnvalue).toBe('ok');
    expect(job.failedReason).toBe('Service Unavailable');
  });

  it('delays a rate-limited job by its retry-after without using up an attempt', async () => {
    // One attempt only: had the rate limit counted, the job would have failed.
    const { queue, worker, stateOf, jobOf } = setup({ attempts: 1 });
    const starts: number[] = [];
    worker({
      reconcile: async () => {
        starts.push(Date.now());
        if (starts.length === 1) throw new RateLimitedError(800, 'GitHub secondary rate limit');
        return 'deployed';
      },
    });
    const { jobId } = await queue.enqueue(up(1));
    const delayed = await waitFor('the job to be delayed', async () => {
      const place = await queue.place('acme/shop', 7);
      return place.state === 'delayed' ? place : undefined;
    });
    expect(delayed.until - starts[0]!).toBeGreaterThanOrEqual(750);
    expect(await stateOf(jobId)).toBe('delayed');

    await waitFor('the job to complete', async () => (await stateOf(jobId)) === 'completed');
    const job = await jobOf(jobId);
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(800);
    expect(job.returnvalue).toBe('deployed');
    expect(job.attemptsMade).toBe(1); // the completion only
  });
});

describe('workers that go away', () => {
  it('picks up the job of a worker killed mid-job after the stall interval, and completes it', async () => {
    const { name, queue, worker, stateOf, jobOf } = setup();
    const { jobId } = await queue.enqueue(up(3));

    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/app/fixtures/queue-worker.ts', redisUrl, name, '1000', '300'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on('data', (chunk) => {
      output += String(chunk);
    });
    await waitFor(`the child worker to take the job (output so far: ${output})`, () =>
      output.includes(`started ${jobId} acme/shop#7`),
    );
    expect(await stateOf(jobId)).toBe('active');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();

    const { runs, reconcile } = recordingReconcile(100);
    worker({ reconcile, lockDurationMs: 1000, stalledIntervalMs: 300 });
    await waitFor('the job to complete elsewhere', async () => (await stateOf(jobId)) === 'completed', {
      timeoutMs: 20_000,
    });
    const job = await jobOf(jobId);
    expect(runs.map((run) => run.sha)).toEqual([sha(3)]);
    expect(job.stalledCounter).toBe(1);
    expect(job.attemptsMade).toBe(1);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
  });

  it('close() waits for the running job to finish', async () => {
    const { queue, worker, stateOf } = setup();
    let finished = false;
    let started = false;
    const previewWorker = worker({
      reconcile: async () => {
        started = true;
        await sleep(800);
        finished = true;
      },
    });
    const { jobId } = await queue.enqueue(up(1));
    await waitFor('the job to start', () => started);
    const closing = Date.now();
    await previewWorker.close();
    expect(finished).toBe(true);
    expect(Date.now() - closing).toBeGreaterThanOrEqual(500);
    expect(await stateOf(jobId)).toBe('completed');
  });
});

describe('registerSweeper', () => {
  it('runs the sweep on a repeating schedule', async () => {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const sweepQueue = new Queue(`test-sweeps-${randomBytes(4).toString('hex')}`, { connection });
    const sweeps: number[] = [];
    const sweeper = await registerSweeper(sweepQueue, 300, {
      connection: redisUrl,
      logger: silent,
      sweep: async ({ jobId }) => {
        sweeps.push(Date.now());
        return jobId;
      },
    });
    cleanups.push(async () => {
      await sweepQueue.obliterate({ force: true });
      await sweepQueue.close();
      await connection.quit();
    });
    cleanups.push(() => sweeper.close({ removeSchedule: true }));

    expect(await sweepQueue.getJobScheduler('sweep')).toMatchObject({ every: 300 });
    await waitFor('three sweeps', () => sweeps.length >= 3, { timeoutMs: 5000 });
    expect(sweeps[2]! - sweeps[1]!).toBeGreaterThanOrEqual(200);
  });
});
