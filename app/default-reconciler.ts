import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Probot } from 'probot';
import { helmBinary, providerNamed } from '../preview/providers/index.ts';
import type { GitHubClient } from './github-reporter.ts';
import type { Reconcile } from './queue/preview-worker.ts';
import { createReconciler } from './reconcile/index.ts';
import { type ServiceConfig, ServiceConfigError } from './service-config.ts';

/**
 * The worker's reconcile, assembled from the service config: the configured provider on the host
 * cluster of KUBECONFIG, and GitHub access as the app's installation (Probot's auth).
 */
export async function defaultReconciler(config: ServiceConfig, logger: Logger): Promise<Reconcile> {
  if (!config.kubeconfig) {
    throw new ServiceConfigError([
      'KUBECONFIG: the worker needs the host cluster kubeconfig file (in-cluster access is not supported yet)',
    ]);
  }
  if (!config.baseDomain) throw new ServiceConfigError(['BASE_DOMAIN: the worker needs the preview domain']);
  const hostKubeconfig = await readFile(config.kubeconfig, 'utf8');
  const probot = new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    baseUrl: config.githubBaseUrl,
    log: logger.child({ name: 'github' }),
  });
  const reconcile = createReconciler({
    provider: await providerNamed(config.provider, hostKubeconfig),
    hostKubeconfig,
    githubFor: async (installationId) => (await probot.auth(installationId)) as unknown as GitHubClient,
    baseDomain: config.baseDomain,
    helmBinary: await helmBinary(),
  });
  return (job, context) => reconcile(job, context);
}
