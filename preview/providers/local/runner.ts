import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { type Cluster, startCluster } from '../../../controlplane/index.ts';
import { Syncer } from '../../../syncer/syncer.ts';
import { paths, readConfig, writeRunnerState } from './state.ts';

/**
 * The body of one local virtual cluster's background process: its control plane (kept in the
 * state folder, so a resume brings the same objects back) and its syncer. SIGTERM stops both.
 */
export async function runLocalCluster(dir: string): Promise<void> {
  const config = await readConfig(dir);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  await writeRunnerState(dir, { pid: process.pid, ready: false });
  let cluster: Cluster | undefined;
  let syncer: Syncer | undefined;
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping virtual cluster');
    await syncer?.stop();
    await cluster?.stop();
    await writeRunnerState(dir, { pid: process.pid, ready: false });
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  try {
    cluster = await startCluster({
      mode: 'virtual',
      name: config.name,
      dir: paths(dir).cluster,
      keepDir: true,
      serviceClusterIPRange: config.serviceCIDR,
      report: (message) => logger.info(message),
    });
    syncer = new Syncer({
      name: config.name,
      hostNamespace: config.namespace,
      host: await readFile(config.hostKubeconfigPath, 'utf8'),
      virtual: cluster.kubeconfig,
      allowedHostSuffix: config.allowedHostSuffix,
      logger,
      ...(config.podSecurityStandard ? ({ podSecurityStandard: config.podSecurityStandard } as object) : {}),
    });
    await syncer.start();
    await writeRunnerState(dir, {
      pid: process.pid,
      ready: true,
      server: cluster.server,
      startedAt: new Date().toISOString(),
    });
    logger.info({ server: cluster.server }, 'virtual cluster ready');
  } catch (error) {
    logger.error({ err: error }, 'virtual cluster failed to start');
    await writeRunnerState(dir, { pid: process.pid, ready: false, error: (error as Error).message });
    await syncer?.stop().catch(() => {});
    await cluster?.stop().catch(() => {});
    process.exit(1);
  }
}
