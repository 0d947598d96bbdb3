import { readFile } from 'node:fs/promises';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { Probot } from 'probot';
import { parse } from 'yaml';
import type { VirtualClusterProvider } from '../preview/index.ts';
import { helmBinary, previewHostAccess, providerNamed, readHostKubeconfig } from '../preview/index.ts';
import { headFirstSeenIn } from './checks/head-first-seen.ts';
import { serviceOctokit } from './github/octokit.ts';
import type { GitHubClient } from './github/reporter.ts';
import type { ServiceMetrics } from './metrics.ts';
import { redisApprovalStore } from './policy/approvals.ts';
import { PREVIEW_QUEUE_NAME } from './queue/preview-queue.ts';
import type { Reconcile } from './queue/preview-worker.ts';
import { type RedisHandle, redisConnection } from './queue/redis-connection.ts';
import { createReconciler } from './reconcile/index.ts';
import { type ServiceConfig, ServiceConfigError } from './service-config.ts';
import { PreviewSlots } from './slots/preview-slots.ts';
import { type KeptPreviews, redisKeptPreviews } from './sweep/kept-previews.ts';
import { metricsTrafficSource, type TrafficSource } from './sweep/traffic-source.ts';

/**
 * The worker's reconcile with what else works on the same host cluster and GitHub: the sweeper's
 * access (so `serve` can schedule it) and a `close` for what the reconcile holds open.
 */
export type WorkerReconcile = Reconcile & {
  readonly hosts: {
    provider: VirtualClusterProvider;
    githubFor(installationId: number): Promise<GitHubClient>;
    /** `/vcluster keep` as the webhook handler records it (`bull:<queue>:kept`). */
    kept: Pick<KeptPreviews, 'get'>;
    /** With PREVIEW_TRAFFIC_METRICS_URL: requests per host namespace, and where a visit is stamped. */
    traffic?: TrafficSource;
    annotate(namespace: string, values: Record<string, string>): Promise<void>;
  };
  close(): Promise<void>;
};

/** Redis keys of the preview cap's line, one set per queue name. */
export const slotsKeyPrefix = (queueName = 'previews') => `vcluster-preview:${queueName}:slots`;

/**
 * The worker's reconcile, assembled from the service config: the configured provider on the host
 * cluster of KUBECONFIG (or the pod's service account), GitHub access as the app's installation (Probot's auth), and the cap of live
 * previews when MAX_PREVIEWS or MAX_PREVIEWS_PER_INSTALLATION is set.
 */
export async function defaultReconciler(
  config: ServiceConfig,
  logger: Logger,
  options: { queueName?: string; metrics?: ServiceMetrics } = {},
): Promise<WorkerReconcile> {
  if (!config.baseDomain) throw new ServiceConfigError(['BASE_DOMAIN: the worker needs the preview domain']);
  const hostKubeconfig = await readHostKubeconfig(config.kubeconfig);
  const probot =
    config.appId !== undefined
      ? new Probot({
          appId: config.appId,
          privateKey: config.privateKey,
          baseUrl: config.githubBaseUrl,
          log: logger.child({ name: 'github' }),
          Octokit: serviceOctokit(options.metrics),
        })
      : undefined;
  const vclusterValues = config.vclusterValuesFile
    ? await readVclusterValues(config.vclusterValuesFile)
    : undefined;
  const provider = await providerNamed(config.provider, hostKubeconfig, {
    ...(vclusterValues ? { vclusterValues } : {}),
    ...(config.previewIngressClass ? { ingressClassName: config.previewIngressClass } : {}),
    volumeFence: config.previewVolumeFence,
    ...(config.previewStoreQuotaBytes ? { storeQuotaBytes: config.previewStoreQuotaBytes } : {}),
  });
  const githubFor = async (installationId?: number) => {
    if (!probot)
      throw new UnrecoverableError(
        'no GitHub App is configured: set APP_ID, PRIVATE_KEY_PATH and WEBHOOK_SECRET and start the service again',
      );
    return (await probot.auth(installationId)) as unknown as GitHubClient;
  };
  const limited = config.maxPreviews !== undefined || config.maxPreviewsPerInstallation !== undefined;
  const slots = limited
    ? new PreviewSlots({
        connection: config.redisUrl,
        keyPrefix: slotsKeyPrefix(options.queueName),
        limits: {
          ...(config.maxPreviews !== undefined ? { total: config.maxPreviews } : {}),
          ...(config.maxPreviewsPerInstallation !== undefined
            ? { perInstallation: config.maxPreviewsPerInstallation }
            : {}),
        },
        listPreviews: () => provider.list(),
      })
    : undefined;
  // The heads the webhook handler notes (policyDeps: `bull:<queue>:approvals`), opened at first use:
  // only repos with waitFor ask.
  let headsRedis: RedisHandle | undefined;
  const heads = redisApprovalStore(
    async () => {
      headsRedis ??= redisConnection(config.redisUrl);
      return headsRedis.client;
    },
    `bull:${options.queueName ?? PREVIEW_QUEUE_NAME}:approvals`,
  );
  // The previews kept from sleep, as the webhook handler writes them (its default, on the queue's keys).
  const kept = redisKeptPreviews(
    async () => {
      headsRedis ??= redisConnection(config.redisUrl);
      return headsRedis.client;
    },
    `bull:${options.queueName ?? PREVIEW_QUEUE_NAME}:kept`,
  );
  const traffic = config.trafficMetricsUrl
    ? metricsTrafficSource({ url: config.trafficMetricsUrl, log: logger.child({ name: 'traffic' }) })
    : undefined;
  const { annotate } = previewHostAccess(hostKubeconfig, config.urlStyle);
  const reconcile = createReconciler({
    provider,
    hostKubeconfig,
    githubFor,
    baseDomain: config.baseDomain,
    urlStyle: config.urlStyle,
    appId: config.appId,
    ...(config.previewIngressClass ? { ingressClassName: config.previewIngressClass } : {}),
    helmBinary: await helmBinary(),
    ...(slots ? { slots } : {}),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    headFirstSeen: headFirstSeenIn(heads),
    hostSecrets: { allowlist: config.hostSecrets, namespace: config.hostSecretsNamespace },
    podSecurity: config.podSecurity,
    kept,
    ...(config.wakerAddress ? { wakerAddress: config.wakerAddress } : {}),
  });
  return Object.assign(
    (job: Parameters<Reconcile>[0], context: Parameters<Reconcile>[1]) => reconcile(job, context),
    {
      hosts: { provider, githubFor, kept, annotate, ...(traffic ? { traffic } : {}) },
      close: async () => {
        await slots?.close();
        await headsRedis?.release();
      },
    },
  );
}

/** The operator's charts/vcluster values file: a YAML mapping, or a clear error naming the setting. */
async function readVclusterValues(path: string): Promise<Record<string, unknown>> {
  let values: unknown;
  try {
    values = parse(await readFile(path, 'utf8')) ?? {};
  } catch (error) {
    throw new ServiceConfigError([`VCLUSTER_VALUES_FILE: cannot read ${path}: ${(error as Error).message}`]);
  }
  if (typeof values !== 'object' || Array.isArray(values)) {
    throw new ServiceConfigError([`VCLUSTER_VALUES_FILE: ${path} must hold a YAML mapping of chart values`]);
  }
  return values as Record<string, unknown>;
}
