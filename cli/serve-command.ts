import { type Command, Option } from 'commander';
import { loadServiceConfig, SERVICE_ROLES, type ServiceRole } from '../app/service-config.ts';
import { runCli } from './run-cli.ts';

/**
 * `vcluster-preview serve [--role all|web|worker]`: the GitHub App's webhook server and the preview
 * worker, configured from the environment (Probot's variables plus REDIS_URL, KUBECONFIG,
 * BASE_DOMAIN, VCLUSTER_PROVIDER). Runs until SIGTERM or SIGINT, then shuts down gracefully.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the GitHub App: webhooks and the preview worker (configured by environment variables)')
    .addOption(
      new Option('--role <role>', 'what this process runs: webhooks (web), jobs (worker) or both (all)')
        .choices([...SERVICE_ROLES])
        .default('all'),
    )
    .action((options: { role: ServiceRole }) =>
      runCli(async () => {
        await serve(options.role, process.env);
      }),
    );
}

/**
 * Starts the service for `role` from `env` and returns once it listens and works; it runs until
 * SIGTERM or SIGINT. Throws a ServiceConfigError naming every variable that is wrong. Answers the
 * running service and, for a worker, the provider its reconcile runs previews with.
 */
export async function serve(
  role: ServiceRole,
  env: Record<string, string | undefined>,
  options: { githubApp?: 'required' | 'optional' } = {},
) {
  const config = loadServiceConfig(env, role, options);
  // Loaded here, not at the top: Probot, BullMQ and ioredis are ~50 MB that every other
  // command (the long-running `syncer` above all) would carry without using.
  const [{ defaultReconciler }, { startService }, { ServiceMetrics }, { serviceLogger }] = await Promise.all([
    import('../app/default-reconciler.ts'),
    import('../app/serve.ts'),
    import('../app/metrics.ts'),
    import('../app/logger.ts'),
  ]);
  const logger = serviceLogger(config.logLevel);
  // One registry for the process: the worker's GitHub calls are counted beside its jobs.
  const metrics = new ServiceMetrics();
  // The CLI assembles the real reconciler; startService alone fails jobs without one.
  const reconcile = config.role === 'web' ? undefined : await defaultReconciler(config, logger, { metrics });
  const service = await startService({ role, env, reconcile, metrics, logger, ...options });
  if (service.webhookUrl) console.error(`listening for webhooks on ${service.webhookUrl}`);
  return { service, config, ...(reconcile ? { provider: reconcile.hosts.provider } : {}) };
}
