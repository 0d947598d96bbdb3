import { randomBytes } from 'node:crypto';
import type { V1Namespace } from '@kubernetes/client-node';
import { pino } from 'pino';
import { defaultReconciler } from '../../app/default-reconciler.ts';
import { previewName } from '../../app/desired-state.ts';
import { repoLabel } from '../../app/preview-metadata.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { loadServiceConfig } from '../../app/service-config.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { type KubeClients, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { labels } from '../../preview/provider.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type GitHubDouble, type IssueComment, type RoleName, startGitHubDouble } from './github-double.ts';
import { openThroughIngress } from './ingress.ts';
import { isolatedHome, serviceEnv } from './preview-service.ts';
import { postWebhook } from './webhooks.ts';

/**
 * The service (web + worker, the real reconciler) on a host cluster (the kwok host or the real
 * node), and what a pull request's author sees of it: the sticky comment, the deployments, the
 * preview's namespaces and virtual cluster, and (with an ingress controller) the page at the URL.
 */
export interface PreviewFlow {
  github: GitHubDouble;
  service: RunningService;
  post(event: string, payload: unknown): ReturnType<typeof postWebhook>;
  stickyBody(pr: number): string;
  /** Every sticky comment on the pull request (the service keeps one). */
  stickyComments(pr: number): IssueComment[];
  /** The first successful deployment status of `commit` (its `environment_url` is the preview URL). */
  successFor(pr: number, commit: string): Promise<{ environment_url?: string }>;
  /** Successful deployment statuses of `commit` so far (a reset adds one). */
  successesOf(commit: string): number;
  /** The host namespaces of this repository's preview of `pr`. */
  hostNamespaces(pr: number): Promise<V1Namespace[]>;
  /** Clients of the preview's virtual cluster, as `vcluster-preview connect` reaches it (local provider). */
  virtual(pr: number): Promise<KubeClients>;
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
  /** How the service reaches the host, when not as `hostKubeconfig` does (through a proxy that fails). */
  serviceHostKubeconfig?: string;
  redisUrl: string;
  /** The host's ingress controller (real node): preview URLs are `http://…preview.localhost:<its port>`. */
  ingressUrl?: string;
  /** `local` (the default) runs under a state home of its own, cleaned up on stop. */
  provider?: 'local' | 'kubernetes';
  /** How long to wait for a deployment (the chart's control plane starts in a pod: longer). */
  deployTimeoutMs?: number;
  /** More service settings, as an operator sets them (PREVIEW_HOST_SECRETS, ...). */
  settings?: Record<string, string>;
  /** More people's roles on the repository (`maintainer` maintains it). */
  permissions?: Record<string, RoleName>;
  /** The GitHub App's installation on the repository (1 unless given). */
  installationId?: number;
  /** More repositories (`owner/name`) of the installation, for tests of one repository against another. */
  otherRepos?: readonly string[];
}): Promise<PreviewFlow> {
  const { owner, repo, hostKubeconfig } = options;
  const provider = options.provider ?? 'local';
  const deployTimeoutMs = options.deployTimeoutMs ?? 180_000;
  const repos = [`${owner}/${repo}`, ...(options.otherRepos ?? [])];
  const home =
    provider === 'local'
      ? isolatedHome(
          hostKubeconfig,
          repos.map((fullName) => repoLabel(fullName)),
        )
      : undefined;
  const secret = `whsec-${randomBytes(8).toString('hex')}`;
  const ingress = options.ingressUrl ? new URL(options.ingressUrl) : undefined;
  const startFlowService = async (github: GitHubDouble) => {
    for (const fullName of repos) {
      const [repoOwner, repoName] = fullName.split('/') as [string, string];
      github.addRepo(repoOwner, repoName, { installationId: options.installationId ?? 1 });
    }
    for (const [login, role] of Object.entries({
      maintainer: 'maintain' as RoleName,
      ...options.permissions,
    }))
      github.setPermission(owner, repo, login, role);
    const env = {
      ...(await serviceEnv({
        github,
        hostKubeconfig: options.serviceHostKubeconfig ?? hostKubeconfig,
        redisUrl: options.redisUrl,
        webhookSecret: secret,
      })),
      VCLUSTER_PROVIDER: provider,
      ...(ingress
        ? { BASE_DOMAIN: 'preview.localhost', PREVIEW_URL_SCHEME: 'http', PREVIEW_URL_PORT: ingress.port }
        : {}),
      ...options.settings,
    };
    const logger = pino({ level: process.env.E2E_LOG ?? 'silent' });
    // One queue name for both: the worker reads the heads the webhook handler noted under its keys.
    const queueName = `flow-${repo}-${randomBytes(4).toString('hex')}`;
    return startService({
      role: 'all',
      env,
      reconcile: await defaultReconciler(loadServiceConfig(env, 'all'), logger, { queueName }),
      queueName,
      logger,
      handleSignals: false,
    });
  };
  const github = await startGitHubDouble();
  let service: RunningService;
  try {
    service = await startFlowService(github);
  } catch (error) {
    // A flow that did not start leaves nothing behind: its caller has no flow to stop.
    await github.stop();
    await home?.restore();
    throw error;
  }
  const host = kubeClients(hostKubeconfig);
  const stickyComments = (pr: number) =>
    github.comments(owner, repo, pr).filter((c) => c.body.startsWith(STICKY_MARKER));
  const statusesOf = (filter: (d: { environment: string; sha: string }) => boolean) =>
    github
      .deployments(owner, repo)
      .filter(filter)
      .flatMap((d) => d.statuses)
      .filter((s) => s.state === 'success');
  const open = async (url: string) => {
    if (!ingress) throw new Error(`${url}: startPreviewFlow was given no ingressUrl to open it through`);
    if (new URL(url).port !== ingress.port) throw new Error(`${url} is not served at ${options.ingressUrl}`);
    return openThroughIngress(url, ingress.href);
  };
  return {
    github,
    service,
    post: (event, payload) => postWebhook(service.webhookUrl!, event, payload, secret),
    stickyBody: (pr) => stickyComments(pr)[0]?.body ?? '',
    stickyComments,
    successFor: (pr, commit) =>
      waitUntil(async () => statusesOf((d) => d.environment === `preview/pr-${pr}` && d.sha === commit)[0], {
        what: `PR #${pr}: a successful deployment of ${commit.slice(0, 7)}`,
        timeoutMs: deployTimeoutMs,
        intervalMs: 500,
      }),
    successesOf: (commit) => statusesOf((d) => d.sha === commit).length,
    hostNamespaces: async (pr) =>
      (
        await host.core.listNamespace({ labelSelector: `vcluster-preview.dev/pull-request=${pr}` })
      ).items.filter((ns) => ns.metadata?.labels?.[labels.repo] === repoLabel(`${owner}/${repo}`)),
    virtual: async (pr) => {
      if (provider !== 'local')
        throw new Error(
          `flow.virtual reads the local provider's clusters: read a ${provider} preview with its own provider`,
        );
      return kubeClients(
        await localProvider({ hostKubeconfig }).kubeconfig(previewName(`${owner}/${repo}`, pr)),
      );
    },
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
      await home?.restore();
      await github.stop();
    },
  };
}
