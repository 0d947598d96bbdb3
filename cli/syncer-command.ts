import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { pino } from 'pino';
import { startHealthServer } from '../syncer/health-server.ts';
import { Syncer } from '../syncer/syncer.ts';

interface SyncerFlags {
  name: string;
  hostNamespace: string;
  hostKubeconfig?: string;
  virtualKubeconfig: string;
  allowedHostSuffix?: string;
  workers: string;
  healthPort: string;
  workloadServiceAccount?: string;
}

function hostConfig(path: string | undefined): KubeConfig {
  const config = new KubeConfig();
  // Inside a pod the service account is the host access; elsewhere KUBECONFIG or ~/.kube/config.
  if (path) config.loadFromFile(path);
  else config.loadFromDefault();
  return config;
}

/** `vcluster-preview syncer`: runs one syncer in the foreground until SIGTERM. */
export function registerSyncerCommand(program: Command): void {
  program
    .command('syncer')
    .description('sync one virtual cluster into one host namespace (runs until stopped)')
    .requiredOption('--name <name>', 'virtual cluster name (part of every host object name)')
    .requiredOption('--host-namespace <namespace>', 'host namespace the virtual objects go to')
    .option('--host-kubeconfig <file>', 'host cluster kubeconfig (default: in-cluster or KUBECONFIG)')
    .requiredOption('--virtual-kubeconfig <file>', 'virtual cluster admin kubeconfig')
    .option('--allowed-host-suffix <domain>', 'ingress hosts must be this domain or below it')
    .option('--workers <count>', 'concurrent reconciles per kind', '16')
    .option('--health-port <port>', 'port of /healthz, /readyz and /metrics (0: none)', '8080')
    .option('--workload-service-account <name>', 'host service account for synced pods')
    .action(async (flags: SyncerFlags) => {
      const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
      const syncer = new Syncer({
        name: flags.name,
        hostNamespace: flags.hostNamespace,
        host: hostConfig(flags.hostKubeconfig),
        virtual: readFileSync(flags.virtualKubeconfig, 'utf8'),
        allowedHostSuffix: flags.allowedHostSuffix,
        workers: Number(flags.workers),
        workloadServiceAccount: flags.workloadServiceAccount,
        logger,
      });
      const port = Number(flags.healthPort);
      const server = port > 0 ? await startHealthServer(syncer, port) : undefined;
      const shutdown = async (signal: string) => {
        logger.info({ signal }, 'stopping syncer');
        server?.close();
        await syncer.stop();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
      await syncer.start();
    });
}
