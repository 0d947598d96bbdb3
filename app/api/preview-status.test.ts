import { describe, expect, it } from 'vitest';
import { type ClusterFacts, type JobFacts, previewStatus } from './preview-status.ts';

const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const none = { state: 'none' } as const;
const running: ClusterFacts = {
  namespace: 'preview-pr-12-acme--shop',
  state: 'running',
  sha: sha('a'),
  url: 'http://pr-12-acme--shop.preview.test/',
};
const job = (facts: Partial<JobFacts>): JobFacts => ({
  id: 'pr-acme--shop-12-x',
  state: 'waiting',
  desired: { kind: 'up', sha: sha('b') },
  ...facts,
});
const steps = [
  { name: 'Read config', status: 'done' as const, durationMs: 12 },
  { name: 'Virtual cluster', status: 'running' as const },
];

describe('previewStatus', () => {
  it('nothing queued and nothing on the host: none', () => {
    expect(previewStatus({ place: none })).toEqual({ state: 'none' });
  });

  it('nothing queued: the host namespace decides, with its url, commit and namespace', () => {
    expect(previewStatus({ place: none, cluster: running })).toEqual({
      state: 'ready',
      url: running.url,
      sha: sha('a'),
      namespace: running.namespace,
    });
    expect(previewStatus({ place: none, cluster: { ...running, state: 'paused' } }).state).toBe('paused');
    expect(previewStatus({ place: none, cluster: { ...running, state: 'creating' } }).state).toBe(
      'deploying',
    );
    expect(previewStatus({ place: none, cluster: { ...running, state: 'failed' } })).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/virtual cluster in preview-pr-12-acme--shop has failed/),
      hint: expect.stringMatching(/reset/),
    });
  });

  it('a waiting job is queued at its place, with the commit it will deploy', () => {
    const waiting = job({});
    const place = { state: 'waiting', jobId: waiting.id, position: 2, waiting: 3 } as const;
    expect(previewStatus({ job: waiting, place, cluster: running })).toEqual({
      state: 'queued',
      queuePosition: 2,
      sha: sha('b'),
      url: running.url,
      namespace: running.namespace,
      jobId: waiting.id,
      desired: 'up',
    });
    // Without the job named, the queue's place alone says as much.
    expect(previewStatus({ place })).toEqual({ state: 'queued', queuePosition: 2, jobId: waiting.id });
  });

  it('a running job is deploying, with its step checklist', () => {
    expect(
      previewStatus({
        job: job({ state: 'active', progress: { desired: 'up', sha: sha('b'), steps } }),
        place: { state: 'active', jobId: 'pr-acme--shop-12-x', next: false },
      }),
    ).toEqual({ state: 'deploying', sha: sha('b'), jobId: 'pr-acme--shop-12-x', desired: 'up', steps });
  });

  it('a delayed job is retrying after a failure, or queued when it waits for a preview slot', () => {
    expect(
      previewStatus({ job: job({ state: 'delayed', failedReason: 'apiserver timed out' }), place: none }),
    ).toMatchObject({
      state: 'retrying',
      error: 'apiserver timed out',
      hint: expect.stringMatching(/retries/),
    });
    expect(
      previewStatus({ job: job({ state: 'delayed', progress: { waitingAt: 4 } }), place: none }),
    ).toMatchObject({ state: 'queued', queuePosition: 4 });
  });

  it('a finished job says how it ended; the host adds the url and commit', () => {
    const done = job({ state: 'completed', returnValue: { state: 'ready', url: 'http://x/' } });
    expect(previewStatus({ job: done, place: none, cluster: running })).toMatchObject({
      state: 'ready',
      url: running.url,
      sha: sha('a'),
    });
    expect(previewStatus({ job: done, place: none })).toMatchObject({ state: 'ready', url: 'http://x/' });
    expect(
      previewStatus({ job: job({ state: 'completed', returnValue: { state: 'destroyed' } }), place: none }),
    ).toEqual({ state: 'destroyed', jobId: 'pr-acme--shop-12-x', desired: 'up' });
    expect(
      previewStatus({
        job: job({ state: 'failed', failedReason: 'Deploy failed: bad manifest' }),
        place: none,
      }),
    ).toMatchObject({
      state: 'failed',
      error: 'Deploy failed: bad manifest',
      hint: expect.stringMatching(/sticky/),
    });
    expect(
      previewStatus({ job: job({ state: 'completed', returnValue: { state: 'failed' } }), place: none }),
    ).toMatchObject({ state: 'failed', error: 'the preview job finished as failed' });
  });

  it('a job that is gone or said nothing: the queue, then the host, decide', () => {
    const gone = job({ state: 'missing' });
    expect(
      previewStatus({ job: gone, place: { state: 'active', jobId: 'newer', next: false } }),
    ).toMatchObject({ state: 'deploying', jobId: gone.id });
    expect(previewStatus({ job: gone, place: none, cluster: running })).toMatchObject({ state: 'ready' });
    expect(
      previewStatus({ job: job({ state: 'completed', returnValue: { state: 'skipped' } }), place: none }),
    ).toMatchObject({ state: 'none' });
  });
});
