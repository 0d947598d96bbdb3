import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import type { PreviewJob } from '../../app/queue/preview-job.ts';
import { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { PreviewWorker } from '../../app/queue/preview-worker.ts';
import { createReconciler, previewAnnotations, previewLabels } from '../../app/reconcile/index.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { createSweep, type SweepReport } from '../../app/sweep/sweep-previews.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { annotations, labels, type VirtualClusterProvider } from '../../preview/provider.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';

const OWNER = 'sweepco';
const REPO = `shop-${randomBytes(3).toString('hex')}`;
const FULL = `${OWNER}/${REPO}`;
const sha = (char: string) => char.repeat(40);
const HOUR = 3_600_000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The sweeper against what a user would check: real host cluster (what exists), real Redis (the
 * queue), GitHub through the double (which pull requests are open). Previews that need no running
 * control plane are bare host namespaces carrying the marks the local provider lists; the idle one
 * must run, so it is a real virtual cluster.
 */
describe('the sweeper', () => {
  let github: GitHubDouble;
  let stateRoot: string;
  let provider: VirtualClusterProvider;
  let queue: PreviewQueue;
  let worker: PreviewWorker | undefined;
  const host = () => kubeClients(inject('hostKubeconfig'));
  const octokit = () => new Octokit({ baseUrl: github.url, auth: 'x', log: quiet });
  const handMade = `hand-${randomBytes(3).toString('hex')}`;

  /** A paused preview's host namespace, as the local provider marks it, without a control plane. */
  const bareNamespace = async (pr: number, lastActivity: Date) => {
    const ref = previewName(FULL, pr);
    await host().core.createNamespace({
      body: {
        metadata: {
          name: ref.namespace,
          labels: { ...previewLabels(FULL, pr, 1), [labels.vcluster]: ref.name, [labels.provider]: 'local' },
          annotations: {
            ...previewAnnotations(FULL, sha('a'), lastActivity, { ttl: '7d', sleepAfter: '1h' }),
            [annotations.state]: 'paused',
            [annotations.createdAt]: lastActivity.toISOString(),
            [annotations.createdNamespace]: 'true',
          },
        },
      },
    });
    return ref;
  };
  const namespaceExists = async (name: string) => !(await isGone(() => host().core.readNamespace({ name })));
  const jobsByPr = async () => {
    const jobs = await queue.queue.getJobs(['waiting', 'delayed', 'active']);
    return new Map(jobs.map((job) => [job.data.pr, job.data as PreviewJob]));
  };
  const sticky = (pr: number) =>
    github.comments(OWNER, REPO, pr).find((comment) => comment.body.startsWith(STICKY_MARKER))?.body;

  beforeAll(async () => {
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO);
    stateRoot = await mkdtemp(join(tmpdir(), 'vcp-sweep-'));
    provider = localProvider({ hostKubeconfig: inject('hostKubeconfig'), stateRoot });
    queue = new PreviewQueue({
      connection: inject('redisUrl'),
      name: `sweep-${randomBytes(4).toString('hex')}`,
    });
  });
  afterAll(async () => {
    await worker?.close();
    await queue?.queue.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    for (const pr of [1, 2, 3, 4, 5]) await provider?.delete(previewName(FULL, pr)).catch(() => {});
    await host()
      .core.deleteNamespace({ name: handMade })
      .catch(() => {});
    await github?.stop();
    if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  });

  it('enqueues down for a closed PR and an orphan, pause for an idle one, and leaves the rest', async () => {
    const longAgo = new Date(Date.now() - 2 * HOUR);
    // 1: closed.  2: open, running, idle for 2 h.  3: closed, but a job for it is queued.
    // 4: no pull request (orphan).  5: open and used a minute ago.  Plus a virtual cluster made by hand.
    for (const [number, state] of [
      [1, 'closed'],
      [2, 'open'],
      [3, 'closed'],
      [5, 'open'],
    ] as const) {
      github.addPullRequest({ owner: OWNER, repo: REPO, number, headSha: sha('a'), state });
    }
    await bareNamespace(1, longAgo);
    const idle = previewName(FULL, 2);
    await provider.create({
      ...idle,
      labels: previewLabels(FULL, 2, 1),
      annotations: previewAnnotations(FULL, sha('a'), longAgo, { ttl: '7d', sleepAfter: '1h' }),
    });
    await bareNamespace(3, longAgo);
    await bareNamespace(4, longAgo);
    await bareNamespace(5, new Date(Date.now() - 60_000));
    await host().core.createNamespace({
      body: {
        metadata: {
          name: handMade,
          labels: { [labels.vcluster]: 'hand', [labels.provider]: 'local' },
          annotations: { [annotations.state]: 'paused', [annotations.createdAt]: longAgo.toISOString() },
        },
      },
    });
    const queued: PreviewJob = {
      repo: FULL,
      pr: 3,
      desired: { kind: 'up', sha: sha('b') },
      installationId: 1,
    };
    await queue.enqueue(queued);

    const sweep = createSweep({ provider, githubFor: async () => octokit(), queue });
    const report = (await sweep({
      log,
      signal: new AbortController().signal,
      jobId: 'sweep-1',
    })) as SweepReport;

    const jobs = await jobsByPr();
    expect(jobs.get(1)).toMatchObject({
      desired: { kind: 'down' },
      reason: { kind: 'closed', text: 'the pull request was closed' },
      installationId: 1,
    });
    expect(jobs.get(2)).toMatchObject({
      desired: { kind: 'pause' },
      reason: { kind: 'idle', text: 'idle for 1h: paused' },
    });
    expect(jobs.get(3)).toEqual(queued);
    expect(jobs.get(4)).toMatchObject({
      desired: { kind: 'down' },
      reason: { kind: 'orphaned', text: 'its pull request no longer exists' },
    });
    expect(jobs.has(5)).toBe(false);
    expect([...jobs.keys()].sort()).toEqual([1, 2, 3, 4]);
    expect(report.enqueued.map((action) => action.pr).sort()).toEqual([1, 2, 4]);
    // GitHub was asked about the pull requests without a job only.
    const asked = github
      .callsTo('GET', new RegExp(`/repos/${OWNER}/${REPO}/pulls/\\d+$`))
      .map((call) => Number(call.path.split('/').at(-1)));
    expect(asked.sort()).toEqual([1, 2, 4, 5]);

    // A second sweep while the jobs wait changes nothing.
    await sweep({ log, signal: new AbortController().signal, jobId: 'sweep-2' });
    expect(await jobsByPr()).toEqual(jobs);
  }, 120_000);

  it('the worker carries the sweep out: deleted, paused and said why; the rest untouched', async () => {
    // The queued job of pull request 3 is someone else's business; it goes so the worker does not run it.
    const [waitingUp] = (await queue.queue.getJobs(['waiting'])).filter((job) => job.data.pr === 3);
    await waitingUp?.remove();
    const reconcile = createReconciler({
      provider,
      hostKubeconfig: inject('hostKubeconfig'),
      githubFor: async () => octokit(),
      baseDomain: 'preview.test',
    });
    worker = new PreviewWorker({
      connection: inject('redisUrl'),
      queueName: queue.name,
      reconcile,
      logger: log,
      concurrency: 3,
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
      const counts = await queue.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      const count = (state: string) => counts[state] ?? 0;
      if (
        count('completed') + count('failed') >= 3 &&
        count('waiting') + count('active') + count('delayed') === 0
      ) {
        expect(counts.failed).toBe(0);
        break;
      }
      if (Date.now() > deadline)
        throw new Error(`the sweep's jobs did not finish: ${JSON.stringify(counts)}`);
      await sleep(100);
    }

    expect(await namespaceExists(previewName(FULL, 1).namespace)).toBe(false);
    expect(sticky(1)).toContain('🗑️ Preview destroyed');
    expect(sticky(1)).toContain('**Why:** the pull request was closed');

    expect((await provider.get(previewName(FULL, 2)))?.state).toBe('paused');
    expect(sticky(2)).toContain('💤 Preview paused');
    expect(sticky(2)).toContain('**Why:** idle for 1h: paused');

    // The orphan is gone without a word to GitHub: there is no pull request to write to.
    expect(await namespaceExists(previewName(FULL, 4).namespace)).toBe(false);
    expect(github.callsTo('POST', /\/issues\/4\/comments$/)).toEqual([]);

    expect(await namespaceExists(previewName(FULL, 3).namespace)).toBe(true);
    expect(await namespaceExists(previewName(FULL, 5).namespace)).toBe(true);
    expect(await namespaceExists(handMade)).toBe(true);
    expect(sticky(3)).toBeUndefined();
    expect(sticky(5)).toBeUndefined();
  }, 120_000);
});
