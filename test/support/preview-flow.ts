import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { defaultReconciler } from '../../app/default-reconciler.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { loadServiceConfig } from '../../app/service-config.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type GitHubDouble, startGitHubDouble } from './github-double.ts';
import { openThroughIngress } from './ingress.ts';
import { serviceEnv } from './preview-service.ts';
import { postWebhook } from './webhooks.ts';

/**
 * The service (web + worker, the real reconciler) on a real-node host, with preview URLs served by
 * its ingress controller, and what a pull request's author sees of it: the sticky comment, the
 * deployments, and the page at the URL.
 */
export interface PreviewFlow {
  github: GitHubDouble;
  service: RunningService;
  post(event: string, payload: unknown): ReturnType<typeof postWebhook>;
  stickyBody(pr: number): string;
  /** The first successful deployment status of `commit` (its `environment_url` is the preview URL). */
  successFor(pr: number, commit: string): Promise<{ environment_url?: string }>;
  /** Successful deployment statuses of `commit` so far (a reset adds one). */
  successesOf(commit: string): number;
  /** What the URL answers, opened from this machine through the ingress controller. */
  open(url: string): Promise<{ status: number; body: string }>;
  /** Waits until the URL serves a page that shows `commit`; returns the page. */
  pageShowing(url: string, commit: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPreviewFlow(options: {
  owner: string;
  repo: string;
  hostKubeconfig: string;
  ingressUrl: string;
  redisUrl: string;
  provider: 'local' | 'kubernetes';
  /** How long to wait for a deployment (the chart's control plane starts in a pod: longer). */
  deployTimeoutMs: number;
  /** More service settings, as an operator sets them (PREVIEW_HOST_SECRETS, ...). */
  settings?: Record<string, string>;
}): Promise<PreviewFlow> {
  const { owner, repo } = options;
  const secret = `whsec-${randomBytes(8).toString('hex')}`;
  const github = await startGitHubDouble();
  github.addRepo(owner, repo, { installationId: 1 });
  github.setPermission(owner, repo, 'maintainer', 'maintain');
  const ingress = new URL(options.ingressUrl);
  const env = {
    ...(await serviceEnv({
      github,
      hostKubeconfig: options.hostKubeconfig,
      redisUrl: options.redisUrl,
      webhookSecret: secret,
    })),
    VCLUSTER_PROVIDER: options.provider,
    BASE_DOMAIN: 'preview.localhost',
    PREVIEW_URL_SCHEME: 'http',
    PREVIEW_URL_PORT: ingress.port,
    ...options.settings,
  };
  const logger = pino({ level: process.env.E2E_LOG ?? 'silent' });
  const service = await startService({
    role: 'all',
    env,
    reconcile: await defaultReconciler(loadServiceConfig(env, 'all'), logger),
    queueName: `real-e2e-${randomBytes(4).toString('hex')}`,
    logger,
    handleSignals: false,
  });
  const statusesOf = (filter: (d: { environment: string; sha: string }) => boolean) =>
    github
      .deployments(owner, repo)
      .filter(filter)
      .flatMap((d) => d.statuses)
      .filter((s) => s.state === 'success');
  const open = async (url: string) => {
    if (new URL(url).port !== ingress.port) throw new Error(`${url} is not served at ${options.ingressUrl}`);
    return openThroughIngress(url, options.ingressUrl);
  };
  return {
    github,
    service,
    post: (event, payload) => postWebhook(service.webhookUrl!, event, payload, secret),
    stickyBody: (pr) =>
      github.comments(owner, repo, pr).find((c) => c.body.startsWith(STICKY_MARKER))?.body ?? '',
    successFor: (pr, commit) =>
      waitUntil(async () => statusesOf((d) => d.environment === `preview/pr-${pr}` && d.sha === commit)[0], {
        what: `PR #${pr}: a successful deployment of ${commit.slice(0, 7)}`,
        timeoutMs: options.deployTimeoutMs,
        intervalMs: 500,
      }),
    successesOf: (commit) => statusesOf((d) => d.sha === commit).length,
    open,
    pageShowing: (url, commit) =>
      waitUntil(
        async () => {
          const page = await open(url).catch(() => undefined);
          return page?.status === 200 && page.body.includes(commit) ? page.body : undefined;
        },
        { what: `${url} to show ${commit.slice(0, 7)}`, timeoutMs: 60_000, intervalMs: 500 },
      ),
    async stop() {
      await service.stop();
      await (service.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
      await github.stop();
    },
  };
}
