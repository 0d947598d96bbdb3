import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mergePatch } from '../../kube/patch.ts';
import { waitUntil } from '../../kube/wait.ts';
import { kubeconfigFile } from '../support/kubectl.ts';
import { startSyncerProcess } from '../support/syncer-process.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

describe('syncer process killed mid-burst and restarted', () => {
  let vc: VirtualClusterUnderTest;
  let child: ChildProcess | undefined;
  let hostKubeconfig: string;

  const startSyncer = async () => {
    const syncer = await startSyncerProcess({
      name: vc.name,
      hostNamespace: vc.hostNamespace,
      hostKubeconfigPath: hostKubeconfig,
      virtualKubeconfigPath: vc.kubeconfigPath,
    });
    child = syncer.child;
    return syncer.port;
  };

  const hostPodNames = async () =>
    (await vc.host.core.listNamespacedPod({ namespace: vc.hostNamespace })).items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => p.metadata?.name)
      .sort();
  const expectedHostPodNames = async () =>
    (await vc.virtual.core.listNamespacedPod({ namespace: 'default' })).items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => `${p.metadata?.name}-x-default-x-${vc.name}`)
      .sort();

  beforeAll(async () => {
    vc = await startVirtualCluster();
    await vc.stopSyncer();
    hostKubeconfig = await kubeconfigFile(inject('hostKubeconfig'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await vc?.stop();
  });

  it('converges to exactly one host pod per virtual pod, and removes host pods of pods deleted meanwhile', async () => {
    const port = await startSyncer();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('vcluster_syncer_queue_depth');

    await vc.virtual.apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'burst' },
        spec: {
          replicas: 40,
          selector: { matchLabels: { app: 'burst' } },
          template: {
            metadata: { labels: { app: 'burst' } },
            spec: { containers: [{ name: 'c', image: 'nginx' }] },
          },
        },
      },
    });
    // Kill it while the burst is being synced: some host pods exist, not all.
    await waitUntil(async () => (await hostPodNames()).length >= 5, { what: 'the first host pods' });
    child?.kill('SIGKILL');
    const seenAtKill = (await hostPodNames()).length;
    expect(seenAtKill).toBeLessThan(40);

    // While no syncer runs: scale down, and delete one host pod behind the syncer's back.
    await vc.virtual.apps.patchNamespacedDeploymentScale(
      { name: 'burst', namespace: 'default', body: { spec: { replicas: 25 } } },
      mergePatch,
    );
    const [victim] = await hostPodNames();
    await vc.host.core.deleteNamespacedPod({ name: victim!, namespace: vc.hostNamespace });

    await startSyncer();
    await waitUntil(
      async () => {
        const deployment = await vc.virtual.apps.readNamespacedDeployment({
          name: 'burst',
          namespace: 'default',
        });
        const [actual, expected] = [await hostPodNames(), await expectedHostPodNames()];
        const converged =
          deployment.status?.availableReplicas === 25 &&
          deployment.status.replicas === 25 &&
          actual.length === 25 &&
          JSON.stringify(actual) === JSON.stringify(expected);
        if (converged) return true;
        // Thrown, so a timeout reports what was seen last.
        const missing = expected.filter((name) => !actual.includes(name));
        const extra = actual.filter((name) => !expected.includes(name ?? ''));
        throw new Error(
          `available ${deployment.status?.availableReplicas}/${deployment.status?.replicas}, host ${actual.length}, missing ${missing.join(',')}, extra ${extra.join(',')}`,
        );
      },
      { what: '25 available replicas, each with exactly one host pod', timeoutMs: 90_000 },
    );
    const hostPods = await waitUntil(
      async () => {
        const { items } = await vc.host.core.listNamespacedPod({ namespace: vc.hostNamespace });
        return items.length === 25 ? items : undefined;
      },
      { what: 'no terminating leftovers on the host' },
    );
    // One host pod per virtual pod: each carries the uid of a different live virtual pod.
    const virtualPods = (await vc.virtual.core.listNamespacedPod({ namespace: 'default' })).items;
    const virtualUids = virtualPods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.uid);
    const hostUids = hostPods.map((p) => p.metadata?.annotations?.['vcluster.loft.sh/object-uid']);
    expect(hostUids.sort()).toEqual(virtualUids.sort());
  });
});
