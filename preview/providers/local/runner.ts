import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { type Cluster, startCluster } from '../../../controlplane/index.ts';
import { applyObject } from '../../../kube/apply.ts';
import { kubeClients } from '../../../kube/client.ts';
import { applyCoreDnsObjects, coreDnsManifests } from '../../../syncer/coredns.ts';
import { Syncer } from '../../../syncer/syncer.ts';
import { preparePodApiAccess, publishPodApiEndpoint } from './pod-access.ts';
import { podAccessPolicy } from './pod-access-policy.ts';
import { paths, readConfig, writeRunnerState } from './state.ts';

/**
 * The body of one local virtual cluster's background process: its control plane (kept in the
 * state folder, so a resume brings the same objects back) and its syncer. SIGTERM stops both.
 *
 * Used like vcluster: the syncer serves the fake nodes' kubelet API on this machine, so `kubectl
 * logs`, `exec` and `port-forward` reach the host pods. Where the host's pods reach this machine
 * (the embedded host with a real node), they also reach the virtual API server through a host
 * Service, and CoreDNS runs in the virtual cluster, so pods resolve its Services by name.
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
    const hostKubeconfig = await readFile(config.hostKubeconfigPath, 'utf8');
    const host = kubeClients(hostKubeconfig);
    const podAccess = await preparePodApiAccess(host, config.namespace, config.name);
    const pki = (file: string) => join(paths(dir).cluster, 'pki', file);
    cluster = await startCluster({
      mode: 'virtual',
      name: config.name,
      dir: paths(dir).cluster,
      keepDir: true,
      serviceClusterIPRange: config.serviceCIDR,
      ...(config.storeQuotaBytes ? { storeQuotaBytes: config.storeQuotaBytes } : {}),
      // Pods call it at the Service's ClusterIP (`KUBERNETES_SERVICE_HOST`), through this machine's address.
      hosts: podAccess ? [podAccess.serviceIP, podAccess.address] : [],
      extraApiServerArgs: [
        // The fake nodes' kubelet API is the syncer's, at the InternalIP and port the nodes advertise,
        // and it takes the admin's client certificate (system:masters, so allowed `nodes/proxy`).
        '--kubelet-preferred-address-types=InternalIP',
        `--kubelet-client-certificate=${pki('admin.crt')}`,
        `--kubelet-client-key=${pki('admin.key')}`,
        ...(podAccess ? ['--bind-address=0.0.0.0'] : []),
      ],
      report: (message) => logger.info(message),
    });
    if (podAccess) {
      const apiServerPort = Number(new URL(cluster.server).port);
      await publishPodApiEndpoint(host, config.namespace, podAccess, apiServerPort);
      if (config.networkPolicy ?? true) {
        const policy = podAccessPolicy(config.name, config.namespace, {
          address: podAccess.address,
          apiServerPort,
        });
        await applyObject(host, policy, 'vcluster-preview');
      }
    }
    syncer = new Syncer({
      name: config.name,
      hostNamespace: config.namespace,
      host: hostKubeconfig,
      virtual: cluster.kubeconfig,
      allowedHostSuffix: config.allowedHostSuffix,
      ingressClassName: config.ingressClassName,
      ...(config.volumeFence ? { volumeFence: config.volumeFence } : {}),
      logger,
      kubelet: { advertiseAddress: '127.0.0.1', port: 0 },
      ...(podAccess ? { translate: { kubernetesServiceIP: podAccess.serviceIP } } : {}),
      ...(config.podSecurityStandard ? ({ podSecurityStandard: config.podSecurityStandard } as object) : {}),
    });
    if (podAccess) {
      // Before the pods are synced, so that the first ones already get the DNS service as nameserver.
      await applyCoreDnsObjects(syncer.virtual, coreDnsManifests(), { logger, source: 'the local provider' });
    }
    await syncer.start();
    await writeRunnerState(dir, {
      pid: process.pid,
      ready: true,
      server: cluster.server,
      startedAt: new Date().toISOString(),
    });
    logger.info(
      { server: cluster.server, kubeletPort: syncer.kubelet?.port, podApi: podAccess?.serviceIP },
      'virtual cluster ready',
    );
  } catch (error) {
    logger.error({ err: error }, 'virtual cluster failed to start');
    await writeRunnerState(dir, { pid: process.pid, ready: false, error: (error as Error).message });
    await syncer?.stop().catch(() => {});
    await cluster?.stop().catch(() => {});
    process.exit(1);
  }
}
