import { type Command, Option } from 'commander';
import { pino } from 'pino';
import {
  loadServiceConfig,
  SERVICE_ROLES,
  ServiceConfigError,
  type ServiceRole,
} from '../app/service-config.ts';
import { ExitCode } from './run-cli.ts';

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
    .action(async (options: { role: ServiceRole }) => {
      try {
        const config = loadServiceConfig(process.env, options.role);
        // Loaded here, not at the top: Probot, BullMQ and ioredis are ~50 MB that every other
        // command (the long-running `syncer` above all) would carry without using.
        const [{ defaultReconciler }, { startService }] = await Promise.all([
          import('../app/default-reconciler.ts'),
          import('../app/serve.ts'),
        ]);
        // The CLI assembles the real reconciler; startService alone fails jobs without one.
        const reconcile =
          config.role === 'web'
            ? undefined
            : await defaultReconciler(config, pino({ level: config.logLevel }));
        const service = await startService({ role: options.role, env: process.env, reconcile });
        if (service.webhookUrl) console.error(`listening for webhooks on ${service.webhookUrl}`);
      } catch (error) {
        console.error(
          error instanceof ServiceConfigError
            ? `error: ${error.message}`
            : `error: ${error instanceof Error ? error.message : String(error)}`,
        );
        process.exitCode = ExitCode.failed;
      }
    });
}
