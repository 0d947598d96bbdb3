import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import type { PreviewJob } from '../../app/queue/preview-job.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { createReconciler, previewAnnotations, previewLabels } from '../../app/reconcile/index.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { redisKeptPreviews } from '../../app/sweep/kept-previews.ts';
import { createSweep, type SweepReport } from '../../app/sweep/sweep-previews.ts';
import { metricsTrafficSource, REQUESTS_SEEN_ANNOTATION } from '../../app/sweep/traffic-source.ts';
import { kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { annotations, previewHostAccess, type VirtualClusterProvider } from '../../preview/index.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { openThroughIngress } from '../support/ingress.ts';
import { serviceEnv } from '../support/preview-service.ts';
import {
  issueCommentEvent,
  type PullRequestSpec,
  postWebhook,
  pullRequestEvent,
} from '../support/webhooks.ts';

const OWNER = 'keepco';
const REPO = `shop-${randomBytes(3).toString('hex')}`;
const FULL = `${OWNER}/${REPO}`;
const SECRET = `whsec-${randomBytes(8).toString('hex')}`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/**
 * `/vcluster keep` and visits, as a user would see them: signed webhooks to the running service
 * (GitHub through the double), the sweep run directly with a clock passed in, on a real virtual
 * cluster of the real-node host whose host namespace serves a real nginx through the embedded
 * Traefik, whose Prometheus metrics are the traffic source. No worker runs: what the sweep decides
 * stays in the queue to be looked at.
 */
describe('keep and traffic', () => {
  let github: GitHubDouble;
  let service: RunningService;
  let queue: PreviewQueue;
  let stateRoot: string;
  let provider: VirtualClusterProvider;
  const host = () => kubeClients(inject('realHostKubeconfig'));
  const ref = previewName(FULL, 1);
  const hostName = `${ref.namespace}.preview.localhost`;
  // When the preview was last deployed, as its namespace says: every clock below counts from it.
  const deployedAt = new Date(Date.now() - 60_000);
  const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number: 1, headSha: 'a'.repeat(40) };

  const post = (event: string, payload: unknown) => postWebhook(service.webhookUrl!, event, payload, SECRET);
  const comment = async (body: string, sender: string) => {
    const stored = github.addComment(OWNER, REPO, 1, body, sender);
    const response = await post(
      'issue_comment',
      issueCommentEvent(spec, { body, sender, commentId: stored.id }),
    );
    expect(response.status).toBe(200);
  };
  const replies = () =>
    github
      .comments(OWNER, REPO, 1)
      .filter((entry) => entry.user.login === 'vcluster-preview[bot]')
      .map((entry) => entry.body);
  const kept = () =>
    redisKeptPreviews(
      async () => (await queue.queue.getBackend().client) as unknown as Redis,
      queue.queue.toKey('kept'),
    );
  const traffic = () => metricsTrafficSource({ url: inject('ingressMetricsUrl'), log });
  /** One sweep at `at`, as the worker's sweeper runs it; what it enqueued, then taken off the queue again. */
  const sweepAt = async (at: Date, withTraffic = false): Promise<PreviewJob[]> => {
    const sweep = createSweep({
      provider,
      githubFor: async () => new Octokit({ baseUrl: github.url, auth: 'x', log: quiet }),
      queue,
      kept: kept(),
      ...(withTraffic
        ? { traffic: traffic(), annotate: previewHostAccess(inject('realHostKubeconfig')).annotate }
        : {}),
      now: () => at,
    });
    const report = (await sweep({
      log,
      signal: new AbortController().signal,
      jobId: 'sweep',
    })) as SweepReport;
    const jobs = await queue.queue.getJobs(['waiting', 'delayed', 'prioritized']);
    for (const job of jobs) await job.remove();
    expect(report.enqueued).toHaveLength(jobs.length);
    return jobs.map((job) => job.data as PreviewJob);
  };
  const namespaceAnnotations = async () =>
    (await host().core.readNamespace({ name: ref.namespace })).metadata?.annotations ?? {};

  beforeAll(async () => {
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    github.setPermission(OWNER, REPO, 'writer', 'write');
    github.setPermission(OWNER, REPO, 'reader', 'read');
    github.addPullRequest({ ...spec, state: 'open' });
    service = await startService({
      role: 'web',
      env: await serviceEnv({ github, redisUrl: inject('redisUrl'), webhookSecret: SECRET }),
      queueName: `keep-${randomBytes(4).toString('hex')}`,
      logger: log,
      handleSignals: false,
    });
    queue = service.queue as PreviewQueue;
    stateRoot = await mkdtemp(join(tmpdir(), 'vcp-keep-'));
    provider = localProvider({ hostKubeconfig: inject('realHostKubeconfig'), stateRoot });
    await provider.create({
      ...ref,
      labels: previewLabels(FULL, 1, 1),
      annotations: previewAnnotations(FULL, spec.headSha, deployedAt, { ttl: '7d', sleepAfter: '1h' }),
    });
    // The preview's app, served under its host name by the embedded Traefik as a preview's Ingress is.
    const namespace = ref.namespace;
    await host().apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
          },
        },
      },
    });
    await host().core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    });
    await host().networking.createNamespacedIngress({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          rules: [
            {
              host: hostName,
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await queue?.queue.obliterate({ force: true }).catch(() => {});
    await service?.stop();
    await provider?.delete(ref).catch(() => {});
    await github?.stop();
    if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  });

  it('/vcluster keep exempts the preview from sleep and ttl; /vcluster keep off gives them back', async () => {
    const idle = new Date(deployedAt.getTime() + 2 * HOUR);
    const old = new Date(deployedAt.getTime() + 30 * DAY);
    expect((await sweepAt(idle)).map((job) => job.desired.kind)).toEqual(['pause']);

    // Only people who may write keep a preview.
    await comment('/vcluster keep', 'reader');
    expect(replies().at(-1)).toMatch(/can only be run by people with write/);
    expect(await sweepAt(idle)).toHaveLength(1);

    await comment('/vcluster keep', 'writer');
    expect(replies().at(-1)).toMatch(/this preview is kept: it does not sleep or expire/);
    // No job was queued for it: a keep never replaces a deploy waiting in the queue.
    expect(await queue.queue.getJobs(['waiting', 'delayed', 'prioritized'])).toEqual([]);
    expect(await sweepAt(idle)).toEqual([]);
    expect(await sweepAt(old)).toEqual([]);

    await comment('/vcluster keep off', 'writer');
    expect(replies().at(-1)).toMatch(/no longer kept/);
    expect(await sweepAt(idle)).toEqual([
      expect.objectContaining({
        pr: 1,
        desired: { kind: 'pause' },
        reason: expect.objectContaining({ kind: 'idle' }),
      }),
    ]);
    expect(await sweepAt(old)).toEqual([
      expect.objectContaining({
        desired: { kind: 'down' },
        reason: expect.objectContaining({ kind: 'expired' }),
      }),
    ]);

    // The label does the same, and its removal undoes it.
    const labeled = { ...spec, labels: ['preview:keep'] };
    expect(
      (await post('pull_request', pullRequestEvent('labeled', labeled, { label: 'preview:keep' }))).status,
    ).toBe(200);
    expect(await sweepAt(old)).toEqual([]);
    expect(
      (await post('pull_request', pullRequestEvent('unlabeled', spec, { label: 'preview:keep' }))).status,
    ).toBe(200);
    expect(await sweepAt(old)).toHaveLength(1);
    // A pull request opened (or reopened) with the label is kept from the start.
    expect((await post('pull_request', pullRequestEvent('reopened', labeled))).status).toBe(200);
    // Its deploy is the worker's to run, not this test's: taken off the queue so the sweep judges.
    const deploy = await queue.queue.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(deploy.map((job) => job.data.desired.kind)).toEqual(['up']);
    for (const job of deploy) await job.remove();
    expect(await sweepAt(old)).toEqual([]);
    await comment('/vcluster keep off', 'writer');
    expect(await sweepAt(old)).toHaveLength(1);
  });

  it('a request through the ingress keeps the preview awake past sleepAfter; without one it sleeps', async () => {
    const idle = new Date(deployedAt.getTime() + 2 * HOUR);
    // Nobody visited yet: idle past sleepAfter, so it sleeps.
    expect((await sweepAt(idle, true)).map((job) => job.desired.kind)).toEqual(['pause']);

    const page = await waitUntil(
      async () => {
        const answer = await openThroughIngress(`http://${hostName}/`, inject('ingressUrl')).catch(
          () => undefined,
        );
        return answer?.status === 200 ? answer.body : undefined;
      },
      { what: `the ingress controller to serve ${hostName}`, timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(page).toContain('Welcome to nginx!');

    // Visited since the last sweep: not idle, and the visit is stamped on the host namespace.
    expect(await sweepAt(idle, true)).toEqual([]);
    const marks = await namespaceAnnotations();
    expect(marks[annotations.lastActivity]).toBe(idle.toISOString());
    expect(Number(marks[REQUESTS_SEEN_ANNOTATION])).toBeGreaterThanOrEqual(1);

    // No visit since: idle again sleepAfter after the visit, not before.
    expect(await sweepAt(new Date(idle.getTime() + 30 * 60_000), true)).toEqual([]);
    expect(
      (await sweepAt(new Date(idle.getTime() + HOUR + 60_000), true)).map((job) => job.desired.kind),
    ).toEqual(['pause']);
  });

  it('unreachable traffic metrics are no traffic information, never a failed sweep', async () => {
    const sweep = createSweep({
      provider,
      githubFor: async () => new Octokit({ baseUrl: github.url, auth: 'x', log: quiet }),
      queue,
      traffic: metricsTrafficSource({ url: 'http://127.0.0.1:9/metrics', log }),
      annotate: previewHostAccess(inject('realHostKubeconfig')).annotate,
      now: () => new Date(Date.now() + 30 * DAY),
    });
    const report = (await sweep({
      log,
      signal: new AbortController().signal,
      jobId: 'sweep',
    })) as SweepReport;
    expect(report.enqueued.map((action) => action.desired.kind)).toEqual(['down']);
    for (const job of await queue.queue.getJobs(['waiting', 'delayed', 'prioritized'])) await job.remove();
  });

  it('the sticky comment says the preview is kept, and by whom', async () => {
    await comment('/vcluster keep', 'writer');
    // The worker's reconcile, as the default reconciler makes it, runs a pause on the preview.
    const reconcile = createReconciler({
      provider,
      hostKubeconfig: inject('realHostKubeconfig'),
      githubFor: async () => new Octokit({ baseUrl: github.url, auth: 'x', log: quiet }),
      baseDomain: 'preview.test',
      kept: kept(),
    });
    const outcome = await reconcile(
      { repo: FULL, pr: 1, installationId: 1, desired: { kind: 'pause' } },
      { log, signal: new AbortController().signal, progress: async () => {} },
    );
    expect(outcome.state).toBe('paused');
    const sticky = github
      .comments(OWNER, REPO, 1)
      .find((entry) => entry.body.startsWith(STICKY_MARKER))?.body;
    expect(sticky).toContain(
      '**Kept** by `@writer`: it does not sleep or expire while the pull request is open',
    );
  });
});
