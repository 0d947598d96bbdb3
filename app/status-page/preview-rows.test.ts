import { describe, expect, it } from 'vitest';
import type { VirtualClusterInfo } from '../../preview/provider.ts';
import { type ClusterEntry, type JobEntry, previewRows } from './preview-rows.ts';

const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const T0 = Date.parse('2026-12-06T20:00:00.000Z');

const prCluster = (
  pr: number,
  overrides: Partial<VirtualClusterInfo> = {},
  url = `http://pr-${pr}-acme--shop.preview.test/`,
): ClusterEntry => ({
  info: {
    name: `pr-${pr}-acme--shop`,
    namespace: `preview-pr-${pr}-acme--shop`,
    provider: 'local',
    state: 'running',
    createdAt: '2026-12-06T19:00:00.000Z',
    labels: { 'vcluster-preview.dev/repo': 'acme.shop', 'vcluster-preview.dev/pull-request': String(pr) },
    annotations: {
      'vcluster-preview.dev/repo': 'acme/shop',
      'vcluster-preview.dev/commit': sha('a'),
      'vcluster-preview.dev/last-activity': '2026-12-06T19:30:00.000Z',
    },
    ...overrides,
  },
  url,
});

const prJob = (pr: number, overrides: Partial<JobEntry> = {}): JobEntry => ({
  id: `pr-acme--shop-${pr}-${overrides.timestamp ?? T0}`,
  state: 'completed',
  data: { repo: 'acme/shop', pr, desired: { kind: 'up', sha: sha('b') } },
  timestamp: T0,
  ...overrides,
});

const steps = [
  { name: 'Read config', status: 'done', durationMs: 40 },
  { name: 'Virtual cluster', status: 'done', durationMs: 9000 },
  { name: 'Deploy', status: 'failed', durationMs: 1200 },
  { name: 'Expose', status: 'pending' },
];

describe('previewRows', () => {
  it('nothing on the host and no jobs: no rows', () => {
    expect(previewRows([], [])).toEqual([]);
  });

  it('a host namespace alone: ready, with its URL, commit, age and last activity', () => {
    expect(previewRows([prCluster(12)], [])).toEqual([
      {
        key: 'pr-acme--shop-12',
        subject: { kind: 'pull-request', repo: 'acme/shop', pr: 12 },
        state: 'ready',
        paused: false,
        url: 'http://pr-12-acme--shop.preview.test/',
        sha: sha('a'),
        namespace: 'preview-pr-12-acme--shop',
        cluster: { name: 'pr-12-acme--shop', namespace: 'preview-pr-12-acme--shop' },
        createdAt: '2026-12-06T19:00:00.000Z',
        lastActivity: '2026-12-06T19:30:00.000Z',
      },
    ]);
  });

  it('a paused namespace is sleeping; a namespace that is no preview is left out', () => {
    const rows = previewRows(
      [
        prCluster(3, { state: 'paused' }),
        { info: { ...prCluster(4).info, labels: {}, annotations: {}, name: 'scratch' } },
      ],
      [],
    );
    expect(rows.map((r) => [r.key, r.state, r.paused])).toEqual([['pr-acme--shop-3', 'paused', true]]);
  });

  it('the newest job of each preview decides; its finish is the last activity', () => {
    const older = prJob(12, {
      state: 'failed',
      failedReason: 'old',
      timestamp: T0 - 60_000,
      finishedOn: T0 - 50_000,
    });
    const newer = prJob(12, {
      state: 'completed',
      timestamp: T0,
      finishedOn: T0 + 90_000,
      progress: { desired: 'up', sha: sha('b'), done: true, steps },
      returnValue: { state: 'ready', url: 'http://pr-12-acme--shop.preview.test/' },
    });
    const [row] = previewRows([prCluster(12)], [newer, older]);
    expect(row).toMatchObject({
      state: 'ready',
      jobId: newer.id,
      jobState: 'completed',
      steps,
      lastActivity: new Date(T0 + 90_000).toISOString(),
    });
    expect(row).not.toHaveProperty('error');
  });

  it('a failed first deploy (no namespace left): the job alone, with the reconcile’s message and hint', () => {
    const failed = prJob(5, {
      state: 'failed',
      failedReason: 'Deploy failed (fix the objects)',
      progress: {
        desired: 'up',
        sha: sha('c'),
        failed: 'Deploy',
        steps,
        error: { message: 'Deploy failed:\nDeployment web: spec.replicas: Invalid value', hint: 'Fix it.' },
      },
    });
    expect(previewRows([], [failed])).toEqual([
      expect.objectContaining({
        key: 'pr-acme--shop-5',
        state: 'failed',
        paused: false,
        sha: sha('c'),
        error: 'Deploy failed:\nDeployment web: spec.replicas: Invalid value',
        hint: 'Fix it.',
        createdAt: new Date(T0).toISOString(),
        steps,
      }),
    ]);
  });

  it('a failed job without the reconcile’s words: the queue’s failed reason and the generic hint', () => {
    const [row] = previewRows([], [prJob(6, { state: 'failed', failedReason: 'no reconciler configured' })]);
    expect(row).toMatchObject({ state: 'failed', error: 'no reconciler configured' });
    expect(row?.hint).toMatch(/\/vcluster reset/);
  });

  const treeCluster = (name: string, lastRun: unknown, state: VirtualClusterInfo['state'] = 'running') => ({
    info: {
      ...prCluster(1).info,
      name: `tree-${name}`,
      namespace: `preview-tree-${name}`,
      state,
      labels: { 'vcluster-preview.dev/tree': name, 'vcluster-preview.dev/host': 'abc' },
      annotations: {
        'vcluster-preview.dev/tree-dir': `/home/me/${name}`,
        'vcluster-preview.dev/commit': `${sha('d')}-dirty`,
        'vcluster-preview.dev/last-activity': '2026-12-06T19:00:00.000Z',
        ...(lastRun === undefined
          ? {}
          : {
              'vcluster-preview.dev/last-run':
                typeof lastRun === 'string' ? lastRun : JSON.stringify(lastRun),
            }),
      },
    },
    url: `http://${name}.preview.localhost/`,
  });

  it('working trees: their namespaces and last runs, keyed tree-<name>', () => {
    const ready = treeCluster('hello', {
      state: 'ready',
      sha: `${sha('d')}-dirty`,
      steps,
      url: 'http://hello.preview.localhost/',
      finishedAt: '2026-12-06T19:45:00.000Z',
    });
    const failedRun = {
      state: 'failed',
      sha: `${sha('d')}-dirty`,
      steps,
      error: { message: 'Deploy failed: Deployment web: refused', hint: 'Fix it, then run it again.' },
      finishedAt: '2026-12-06T19:50:00.000Z',
    };
    const rows = previewRows(
      [
        ready,
        treeCluster('broken', failedRun),
        treeCluster('asleep', failedRun, 'paused'),
        treeCluster('odd', '{not json'),
      ],
      [],
    );
    expect(rows.map((r) => [r.key, r.subject, r.state, r.paused])).toEqual([
      ['tree-asleep', { kind: 'tree', name: 'asleep', dir: '/home/me/asleep' }, 'paused', true],
      ['tree-broken', { kind: 'tree', name: 'broken', dir: '/home/me/broken' }, 'failed', false],
      ['tree-hello', { kind: 'tree', name: 'hello', dir: '/home/me/hello' }, 'ready', false],
      ['tree-odd', { kind: 'tree', name: 'odd', dir: '/home/me/odd' }, 'ready', false],
    ]);
    expect(rows[2]).toMatchObject({
      sha: `${sha('d')}-dirty`,
      url: 'http://hello.preview.localhost/',
      steps,
      lastActivity: '2026-12-06T19:45:00.000Z',
    });
    expect(rows[2]).not.toHaveProperty('error');
    expect(rows[1]).toMatchObject({
      error: 'Deploy failed: Deployment web: refused',
      hint: 'Fix it, then run it again.',
    });
    expect(rows[3]).not.toHaveProperty('steps');
  });

  it('skips and malformed jobs say nothing about a preview', () => {
    const skip = prJob(9, { data: { repo: 'acme/shop', pr: 9, desired: { kind: 'skip', reason: 'draft' } } });
    const malformed = prJob(10, { data: { repo: 'nope', pr: -1 } });
    expect(previewRows([], [skip, malformed])).toEqual([]);
  });

  it('newest activity first', () => {
    const rows = previewRows(
      [prCluster(1)],
      [
        prJob(2, {
          finishedOn: T0,
          returnValue: { state: 'destroyed' },
          data: { repo: 'acme/shop', pr: 2, desired: { kind: 'down' } },
        }),
      ],
    );
    expect(rows.map((r) => [r.key, r.state])).toEqual([
      ['pr-acme--shop-2', 'destroyed'],
      ['pr-acme--shop-1', 'ready'],
    ]);
  });
});
