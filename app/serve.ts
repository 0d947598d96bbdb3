import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Queue, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { Probot, Server } from 'probot';
import { API_PREFIX } from './api/api-handler.ts';
import { lazyPreviewHosts } from './api/host-lookup.ts';
import { createPreviewApi } from './api/preview-api.ts';
import type { WorkerReconcile } from './default-reconciler.ts';
import { serviceOctokit } from './github/octokit.ts';
import { healthHandler } from './health.ts';
import { serviceLogger } from './logger.ts';
import { metricsHandler, ServiceMetrics } from './metrics.ts';
import { policyDeps } from './policy/policy-deps.ts';
import { createPreviewApp, type PreviewAppDeps } from './probot-app.ts';
import { PreviewQueue } from './queue/preview-queue.ts';
import { PreviewWorker, type Reconcile } from './queue/preview-worker.ts';
import { type RedisHandle, redisConnection } from './queue/redis-connection.ts';
import { registerSweeper, SWEEP_QUEUE_NAME, type Sweeper } from './queue/sweeper.ts';
import { guardRequestSize } from './request-size-guard.ts';
import { loadServiceConfig, type ServiceConfig, type ServiceRole } from './service-config.ts';
import { statusPageHandler } from './status-page/status-page-handler.ts';
import { createSweep } from './sweep/sweep-previews.ts';
import { putInFront } from './waker/front.ts';
import { lazyWakeAccess } from './waker/lazy-access.ts';
import { createWaker } from './waker/waker.ts';

/**
 * `vcluster-preview serve`: the webhook server (Probot), the preview worker, or both in one process,
 * configured from the environment (see service-config.ts) and stopped gracefully on SIGTERM/SIGINT.
 */

export interface StartServiceOptions {
  role: ServiceRole;
  env: Record<string, string | undefined>;
  /**
   * Brings a preview to its desired state; without one, every job fails with "no reconciler
   * configured". The default reconciler's (`WorkerReconcile`) also runs the sweeper, every
   * SWEEP_INTERVAL, on the same host cluster and GitHub access, and is closed on stop.
   */
  reconcile?: Reconcile | WorkerReconcile;
  /** BullMQ queue name; default `previews` (and `preview-sweeps` for sweeps). Tests use unique names. */
  queueName?: string;
  /** Default: the service logger (`serviceLogger`) at `LOG_LEVEL`. */
  logger?: Logger;
  readConfig?: PreviewAppDeps['readConfig'];
  /** Worker concurrency; default `WORKER_CONCURRENCY` from the environment (2). */
  concurrency?: number;
  /** Stop on SIGTERM and SIGINT; default true. */
  handleSignals?: boolean;
  /** Where this process's metrics go (served at /metrics); the reconciler's GitHub calls too when shared. */
  metrics?: ServiceMetrics;
  /** See LoadServiceConfigOptions.githubApp: `optional` for `npm start` before an App exists. */
  githubApp?: 'required' | 'optional';
}

export interface RunningService {
  config: ServiceConfig;
  /** The webhook server's base URL (`http://host:port`), for the web and all roles. */
  url?: string;
  /** Where GitHub posts webhooks, for the web and all roles. */
  webhookUrl?: string;
  queue?: PreviewQueue;
  worker?: PreviewWorker;
  /** For the worker and all roles, with the default reconciler. */
  sweeper?: Sweeper;
  /** Closes the server (no new webhooks), the sweeper, then the worker (waits for running jobs), then the queues. */
  stop(): Promise<void>;
}

export const WEBHOOK_PATH = '/api/github/webhooks';

/** The reconcile used when none is given: fails every job at once, rather than pretending to work. */
export const missingReconcile: Reconcile = async () => {
  throw new UnrecoverableError('no reconciler configured');
};

export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const config = loadServiceConfig(options.env, options.role, {
    ...(options.githubApp ? { githubApp: options.githubApp } : {}),
  });
  const logger = options.logger ?? serviceLogger(config.logLevel);
  const log = logger.child({ role: config.role });
  const metrics = options.metrics ?? new ServiceMetrics();
  const serves = config.role === 'web' || config.role === 'all';
  const works = config.role === 'worker' || config.role === 'all';

  let queue: PreviewQueue | undefined;
  let server: Server | undefined;
  let worker: PreviewWorker | undefined;
  let sweepQueue: Queue | undefined;
  let sweepRedis: RedisHandle | undefined;
  let sweeper: Sweeper | undefined;
  let healthServer: HttpServer | undefined;
  let url: string | undefined;
  const reconcile = options.reconcile;
  const closeReconcile = reconcile && 'close' in reconcile ? () => reconcile.close() : undefined;

  const closeAll = async () => {
    const errors: unknown[] = [];
    const attempt = async (what: string, work: (() => Promise<void>) | undefined) => {
      if (!work) return;
      try {
        await work();
      } catch (error) {
        log.error({ err: error }, `could not close the ${what}`);
        errors.push(error);
      }
    };
    await attempt('webhook server', server && (() => server!.stop()));
    await attempt(
      'health server',
      healthServer && (() => new Promise<void>((resolve) => healthServer!.close(() => resolve()))),
    );
    await attempt('sweeper', sweeper && (() => sweeper!.close()));
    await attempt('worker', worker && (() => worker!.close()));
    await attempt('sweep queue', sweepQueue && (() => sweepQueue!.close()));
    await attempt('sweep queue connection', sweepRedis && (() => sweepRedis!.release()));
    await attempt('queue', queue && (() => queue!.close()));
    await attempt('reconciler', closeReconcile);
    if (errors.length > 0) throw new AggregateError(errors, 'the service did not stop cleanly');
  };

  try {
    const previewQueue = () =>
      new PreviewQueue({
        connection: config.redisUrl,
        ...(options.queueName ? { name: options.queueName } : {}),
      });
    // The host cluster: KUBECONFIG's, or the pod's own when the service runs in one.
    const hosts =
      serves && (config.kubeconfig || process.env.KUBERNETES_SERVICE_HOST)
        ? { hosts: lazyPreviewHosts(config.kubeconfig, config.provider, config.urlStyle) }
        : {};
    /** The status page at `/`, with or without a GitHub App. */
    const statusPage = (webQueue: PreviewQueue) =>
      statusPageHandler({
        queue: webQueue.queue,
        ping: () => webQueue.ping(),
        ...hosts,
        ...(config.statusPageAuth ? { auth: config.statusPageAuth } : {}),
        log: logger.child({ name: 'status-page' }),
      });
    /** Sleeping previews' URLs are routed to the web role (see preview/wake): their requests wake them. */
    const wakerFor = (webQueue: PreviewQueue) =>
      config.baseDomain && hosts.hosts
        ? createWaker({
            baseDomain: config.baseDomain,
            ...(config.publicUrl ? { ownHosts: [new URL(config.publicUrl).hostname] } : {}),
            access: lazyWakeAccess(config.kubeconfig),
            queue: webQueue,
            holdMs: config.wakeTimeoutMs,
            log: logger.child({ name: 'waker' }),
          })
        : undefined;
    if (serves && config.appId === undefined) {
      // No GitHub App yet (`npm start` on a new machine): what needs no App is served.
      queue = previewQueue();
      queue.queue.on('error', (error) => log.warn({ err: error }, 'queue connection error'));
      const webQueue = queue;
      metrics.observe({ queue: () => webQueue.queue.getJobCounts() });
      const waker = wakerFor(webQueue);
      const plain = await listenPlain(
        [
          ...(waker ? [waker] : []),
          healthHandler({ redis: () => webQueue.ping() }),
          metricsHandler(metrics.registry),
          statusPage(webQueue),
        ],
        config.port,
        config.host,
      );
      healthServer = plain.server;
      url = plain.url;
      log.info(
        { url },
        'no GitHub App configured: no webhooks and no API; the status page, probes and metrics listening',
      );
    } else if (serves) {
      queue = previewQueue();
      // BullMQ prints connection errors to the console unless someone listens; say them in the log.
      queue.queue.on('error', (error) => log.warn({ err: error }, 'queue connection error'));
      server = new Server({
        Probot: Probot.defaults({
          appId: config.appId,
          privateKey: config.privateKey,
          secret: config.webhookSecret,
          baseUrl: config.githubBaseUrl,
          log: logger,
          Octokit: serviceOctokit(metrics),
        }),
        log: logger,
        port: config.port,
        host: config.host,
        webhookPath: WEBHOOK_PATH,
        enableStaticFiles: false,
      });
      const webQueue = queue;
      server.addHandler(healthHandler({ redis: () => webQueue.ping() }));
      server.addHandler(metricsHandler(metrics.registry));
      metrics.observe({ queue: () => webQueue.queue.getJobCounts() });
      // Webhooks and the API judge pull requests with the same policy and the same approvals.
      const policy = policyDeps(queue, {
        appId: config.appId,
        ...(options.readConfig ? { readConfig: options.readConfig } : {}),
      });
      await server.load(
        createPreviewApp({
          queue,
          ...policy,
          webhooksPerMinute: config.rateLimits.webhooksPerMinute,
          ...(config.publicUrl !== undefined ? { serviceUrl: config.publicUrl } : {}),
        }),
      );
      await server.load(
        createPreviewApi({
          queue,
          policy,
          issuer: config.oidcIssuer,
          audience: config.apiAudience,
          callsPerMinute: config.rateLimits.apiCallsPerMinute,
          ...hosts,
          log: logger,
        }),
      );
      server.addHandler(statusPage(webQueue));
      const httpServer = await server.start();
      guardRequestSize(httpServer);
      const waker = wakerFor(webQueue);
      if (waker) putInFront(httpServer, waker);
      const host = /^(0\.0\.0\.0|::|\[::\])$/.test(server.host) ? '127.0.0.1' : server.host;
      url = `http://${host}:${server.port}`;
      log.info(
        {
          url,
          webhookPath: WEBHOOK_PATH,
          apiPath: API_PREFIX,
          github: config.githubBaseUrl,
          oidcIssuer: config.oidcIssuer,
        },
        'webhook server and API listening',
      );
    }
    if (works) {
      if (!options.reconcile) log.warn('no reconciler configured: every preview job will fail');
      worker = new PreviewWorker({
        connection: config.redisUrl,
        reconcile: options.reconcile ?? missingReconcile,
        logger,
        ...(options.queueName ? { queueName: options.queueName } : {}),
        concurrency: options.concurrency ?? config.workerConcurrency,
        metrics,
      });
      log.info({ provider: config.provider, baseDomain: config.baseDomain }, 'preview worker started');
      if (!serves) {
        // A worker alone has no webhook server: its probes get one of their own on PORT.
        const running = worker;
        const health = healthHandler({
          redis: () => running.ping(),
          worker: async () => {
            if (!running.worker.isRunning()) throw new Error('the worker is not taking jobs');
          },
        });
        healthServer = (
          await listenPlain([health, metricsHandler(metrics.registry)], config.port, config.host)
        ).server;
        log.info({ port: config.port }, 'worker health endpoints listening (/healthz, /readyz)');
      }
      if (reconcile && 'hosts' in reconcile) {
        // The sweep enqueues its decisions like a webhook does, so the worker role needs the queue too.
        queue ??= previewQueue();
        sweepRedis = redisConnection(config.redisUrl);
        sweepQueue = new Queue(options.queueName ? `${options.queueName}-sweeps` : SWEEP_QUEUE_NAME, {
          connection: sweepRedis.client,
        });
        sweeper = await registerSweeper(sweepQueue, config.sweepIntervalMs, {
          connection: config.redisUrl,
          logger: logger.child({ name: 'sweeper' }),
          sweep: createSweep({ ...reconcile.hosts, queue }),
        });
        log.info({ everyMs: config.sweepIntervalMs }, 'sweeper scheduled');
        const { provider } = reconcile.hosts;
        const workerQueue = queue;
        metrics.observe({
          ...(serves ? {} : { queue: () => workerQueue.queue.getJobCounts() }),
          previews: async () => {
            const counts: Record<string, number> = {};
            for (const preview of await provider.list())
              counts[preview.state] = (counts[preview.state] ?? 0) + 1;
            return counts;
          },
        });
      } else {
        log.warn('no sweeper: closed, idle and orphaned previews are not cleaned up');
      }
    }
  } catch (error) {
    await closeAll().catch(() => undefined);
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down: no new webhooks, waiting for running jobs');
    stop().then(
      () => log.info('stopped'),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  const stop = () => {
    stopping ??= (async () => {
      if (handleSignals) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      await closeAll();
    })();
    return stopping;
  };

  return {
    config,
    ...(url ? { url, webhookUrl: `${url}${WEBHOOK_PATH}` } : {}),
    ...(queue ? { queue } : {}),
    ...(worker ? { worker } : {}),
    ...(sweeper ? { sweeper } : {}),
    stop,
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

/** A plain HTTP server of `handlers` (the first that answers wins; 404 otherwise), for a process without Probot's. */
async function listenPlain(
  handlers: Handler[],
  port: number,
  host: string,
): Promise<{ server: HttpServer; url: string }> {
  const server = createServer((req, res) => {
    void (async () => {
      for (const handler of handlers) if (await handler(req, res)) return;
      res.writeHead(404).end();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server
      .once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(
                `PORT ${port} is in use: the service serves /healthz, /readyz and /metrics on PORT; give each process on this machine its own PORT`,
              )
            : error,
        ),
      )
      .listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const shown = /^(0\.0\.0\.0|::|\[::\])$/.test(host) ? '127.0.0.1' : host;
  return { server, url: `http://${shown}:${boundPort}` };
}
