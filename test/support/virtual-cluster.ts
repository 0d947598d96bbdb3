import { pino } from 'pino';
import { inject } from 'vitest';
import { type Cluster, startCluster } from '../../controlplane/index.ts';
import { type KubeClients, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { Syncer, type SyncerOptions } from '../../syncer/syncer.ts';
import { kubeconfigFile } from './kubectl.ts';

export interface VirtualClusterUnderTest {
  name: string;
  hostNamespace: string;
  cluster: Cluster;
  syncer: Syncer;
  host: KubeClients;
  virtual: KubeClients;
  /** Path of the virtual cluster's admin kubeconfig, for real kubectl. */
  kubeconfigPath: string;
  /** Stops the syncer and the virtual control plane (the host namespace is left for the caller). */
  stopSyncer(): Promise<void>;
  /** Starts a new syncer against the same clusters (restart tests). */
  restartSyncer(): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * A virtual control plane (real apiserver + controller manager) and an in-process syncer into a
 * fresh namespace of the shared host cluster, which has the same service range.
 */
export async function startVirtualCluster(
  options: Partial<Omit<SyncerOptions, 'host' | 'virtual'>> & {
    /** `realHostKubeconfig` for pods that really run (Jobs that complete); default the kwok host. */
    hostKubeconfig?: string;
  } = {},
): Promise<VirtualClusterUnderTest> {
  const { hostKubeconfig = inject('hostKubeconfig'), ...syncerOptions } = options;
  const name = syncerOptions.name ?? `vc${Date.now().toString(36)}${counter++}`;
  const hostNamespace = syncerOptions.hostNamespace ?? `vcluster-${name}`;
  const host = kubeClients(hostKubeconfig);
  await host.core.createNamespace({ body: { metadata: { name: hostNamespace } } });
  await waitUntil(
    () => host.core.readNamespacedServiceAccount({ name: 'default', namespace: hostNamespace }),
    {
      what: `default service account in ${hostNamespace}`,
    },
  );
  const cluster = await startCluster({ mode: 'virtual', name });
  const virtual = kubeClients(cluster.kubeconfig);
  const newSyncer = () =>
    new Syncer({
      logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
      ...syncerOptions,
      name,
      hostNamespace,
      host: hostKubeconfig,
      virtual: cluster.kubeconfig,
    });
  let syncer = newSyncer();
  await syncer.start();
  const kubeconfigPath = await kubeconfigFile(cluster.kubeconfig);
  const result: VirtualClusterUnderTest = {
    name,
    hostNamespace,
    cluster,
    get syncer() {
      return syncer;
    },
    host,
    virtual,
    kubeconfigPath,
    stopSyncer: () => syncer.stop(),
    async restartSyncer() {
      syncer = newSyncer();
      await syncer.start();
    },
    async stop() {
      await syncer.stop();
      await cluster.stop();
      await host.core.deleteNamespace({ name: hostNamespace }).catch(() => {});
    },
  };
  return result;
}
