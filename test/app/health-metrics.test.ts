import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ProbotOctokit } from 'probot';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { githubMetricsPlugin, ServiceMetrics } from '../../app/metrics.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import type { Reconcile } from '../../app/queue/preview-worker.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { freePort } from '../../controlplane/index.ts';
import { waitUntil } from '../../kube/wait.ts';
import { startGitHubDouble } from '../support/github-double.ts';
import { serviceEnv } from '../support/preview-service.ts';

const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function start(
  role: 'web' | 'worker',
  queueName: string,
  overrides: Record<string, string> = {},
  reconcile?: Reconcile,
) {
  const github = await startGitHubDouble();
  cleanups.push(() => github.stop());
  const env = {
    ...(await serviceEnv({ github, redisUrl: inject('redisUrl'), webhookSecret: 's' })),
    ...overrides,
  };
  const service: RunningService = await startService({
    role,
    env,
    queueName,
    logger: silent,
    handleSignals: false,
    ...(reconcile ? { reconcile } : {}),
  });
  cleanups.push(() => service.stop());
  return { service, base: `http://127.0.0.1:${env.PORT}` };
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

/**
 * The probes and the scrape a cluster runs against web and worker pods (the service chart's
 * livenessProbe, readinessProbe and a Prometheus scrape): `/healthz`, `/readyz` (Redis answers),
 * `/metrics` (jobs by kind and outcome, their durations, the queue by state).
 */
describe('health and metrics endpoints', () => {
  it('web and worker answer /healthz and /readyz, and /metrics counts the jobs the worker ran', async () => {
    const queueName = `test-health-${randomBytes(4).toString('hex')}`;
    const web = await start('web', queueName);
    cleanups.push(() => (web.service.queue as PreviewQueue).queue.obliterate({ force: true }));
    const ran: string[] = [];
    const worker = await start('worker', queueName, {}, async (job) => {
      ran.push(job.repo);
    });

    for (const { base } of [web, worker]) {
      expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
      // Ready once its dependencies answer, as a readiness probe sees it: probed again until then.
      let last = { status: 0, body: '' };
      const ready = await waitUntil(
        async () => {
          last = await get(`${base}/readyz`);
          return last.status === 200 ? last : undefined;
        },
        { what: `${base}/readyz to answer 200`, timeoutMs: 15_000 },
      ).catch(() => last);
      expect(ready, ready.body).toMatchObject({ status: 200 });
      expect(ready.body).toContain('[+]redis ok');
    }
    expect((await get(`${worker.base}/readyz`)).body).toContain('[+]worker ok');

    await (web.service.queue as PreviewQueue).enqueue({
      repo: 'acme/shop',
      pr: 7,
      desired: { kind: 'up', sha: 'a'.repeat(40) },
    });
    await waitUntil(async () => ran.length === 1 || undefined, { what: 'the worker ran the job' });
    const scraped = await waitUntil(
      async () => {
        const { body } = await get(`${worker.base}/metrics`);
        return body.includes('vcluster_preview_jobs_total{kind="up",outcome="done"} 1') ? body : undefined;
      },
      { what: 'the worker to count the job' },
    );
    expect(scraped).toMatch(/vcluster_preview_job_duration_seconds_count\{kind="up"\} 1/);
    expect(scraped).toMatch(/vcluster_preview_enqueue_to_url_seconds_count 1/);
    // The web process reads the queue's depth by state at each scrape.
    const webMetrics = (await get(`${web.base}/metrics`)).body;
    expect(webMetrics).toMatch(/vcluster_preview_queue_jobs\{state="completed"\} 1/);
    expect(webMetrics).toMatch(/vcluster_preview_queue_jobs\{state="waiting"\} 0/);
  });

  it('/readyz says 503 and which dependency failed while Redis does not answer; /healthz stays 200', async () => {
    const { base } = await start('web', `test-health-down-${randomBytes(4).toString('hex')}`, {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    expect((await get(`${base}/healthz`)).status).toBe(200);
    const ready = await get(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/\[-\]redis failed: .+\nnot ready/);
  });
});

describe('GitHub API metrics', () => {
  it('counts calls by method and status, and the answers that asked to slow down', async () => {
    const github = await startGitHubDouble();
    cleanups.push(() => github.stop());
    github.addRepo('acme', 'shop', { installationId: 1 });
    const metrics = new ServiceMetrics();
    const Octokit = ProbotOctokit.plugin(githubMetricsPlugin(metrics));
    // Probot's throttling and retries stay out of the count's way here: one request, one answer.
    const octokit = new Octokit({
      baseUrl: `http://${github.host}/api/v3`,
      auth: 'token',
      throttle: { enabled: false },
      retry: { enabled: false },
    });
    await octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'shop' });
    await expect(
      octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'nothing' }),
    ).rejects.toThrow();
    github.failNext({
      path: '/repos/acme/shop/issues/1/comments',
      status: 429,
      headers: { 'retry-after': '30' },
    });
    await expect(
      octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        owner: 'acme',
        repo: 'shop',
        issue_number: 1,
        body: 'x',
      }),
    ).rejects.toThrow();
    const text = await metrics.registry.metrics();
    expect(text).toContain('vcluster_preview_github_requests_total{method="GET",status="200"} 1');
    expect(text).toContain('vcluster_preview_github_requests_total{method="GET",status="404"} 1');
    expect(text).toContain('vcluster_preview_github_requests_total{method="POST",status="429"} 1');
    expect(text).toContain('vcluster_preview_github_rate_limited_total 1');
  });
});
