import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../kube/wait.ts';
import { runBinary } from '../support/kubectl.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

describe('the classic vcluster demo, with real kubectl against the virtual cluster', () => {
  let vc: VirtualClusterUnderTest;
  const kubectl = (...args: string[]) => runBinary('kubectl', args, { kubeconfig: vc.kubeconfigPath });

  beforeAll(async () => {
    vc = await startVirtualCluster();
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('runs a deployment created in the virtual cluster as host pods named <pod>-x-<ns>-x-<vcluster>', async () => {
    await kubectl('create', 'namespace', 'ns1');
    await kubectl('create', 'deployment', 'nginx-deploy', '-n', 'ns1', '--image=nginx', '--replicas=2');

    const hostPods = await waitUntil(
      async () => {
        const list = await vc.host.core.listNamespacedPod({ namespace: vc.hostNamespace });
        const running = list.items.filter((p) => p.status?.phase === 'Running');
        return running.length === 2 ? running : undefined;
      },
      { what: 'two running host pods' },
    );
    const virtualPods = (await vc.virtual.core.listNamespacedPod({ namespace: 'ns1' })).items;
    const expectedNames = virtualPods.map((p) => `${p.metadata?.name}-x-ns1-x-${vc.name}`).sort();
    expect(hostPods.map((p) => p.metadata?.name).sort()).toEqual(expectedNames);
    for (const name of expectedNames)
      expect(name).toMatch(new RegExp(`^nginx-deploy-[a-z0-9]+-[a-z0-9]+-x-ns1-x-${vc.name}$`));

    const available = await waitUntil(
      async () => {
        const out = await kubectl('get', 'deployment', 'nginx-deploy', '-n', 'ns1', '-o', 'json');
        const deployment = JSON.parse(out);
        return deployment.status?.availableReplicas === 2 ? deployment : undefined;
      },
      { what: 'the virtual deployment to be Available' },
    );
    expect(available.status.conditions.find((c: { type: string }) => c.type === 'Available').status).toBe(
      'True',
    );

    const pods: V1Pod[] = JSON.parse(await kubectl('get', 'pods', '-n', 'ns1', '-o', 'json')).items;
    const hostByName = new Map(
      hostPods.map((p) => [p.metadata?.annotations?.['vcluster.loft.sh/object-name'], p]),
    );
    for (const pod of pods) {
      const twin = hostByName.get(pod.metadata?.name);
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.podIP).toBe(twin?.status?.podIP);
      expect(pod.spec?.nodeName).toBe(twin?.spec?.nodeName);
    }
    const nodes = JSON.parse(await kubectl('get', 'nodes', '-o', 'json')).items;
    const nodeNames = nodes.map((n: { metadata: { name: string } }) => n.metadata.name).sort();
    expect(nodeNames).toEqual([...new Set(pods.map((p) => p.spec?.nodeName))].sort());
    for (const node of nodes) {
      expect(node.metadata.labels['vcluster.loft.sh/fake-node']).toBe('true');
      expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
    }
  });

  it('gives `kubectl expose deployment` a virtual Service whose ClusterIP equals its host twin', async () => {
    await kubectl('expose', 'deployment', 'nginx-deploy', '-n', 'ns1', '--port=80', '--target-port=80');
    const hostName = `nginx-deploy-x-ns1-x-${vc.name}`;
    const hostService = await waitUntil(
      () => vc.host.core.readNamespacedService({ name: hostName, namespace: vc.hostNamespace }),
      { what: `host service ${hostName}` },
    );
    const virtualIP = await waitUntil(
      async () => {
        const out = await kubectl(
          'get',
          'service',
          'nginx-deploy',
          '-n',
          'ns1',
          '-o',
          'jsonpath={.spec.clusterIP}',
        );
        return out === hostService.spec?.clusterIP ? out : undefined;
      },
      { what: 'the virtual service to carry the host ClusterIP' },
    );
    expect(virtualIP).toMatch(/^10\.96\.\d+\.\d+$/);
    // The host selector picks the translated host pods, so the host endpoints controller finds them.
    const endpoints = await waitUntil(
      async () => {
        const ep = await vc.host.core.readNamespacedEndpoints({
          name: hostName,
          namespace: vc.hostNamespace,
        });
        const addresses = ep.subsets?.flatMap((s) => s.addresses ?? []) ?? [];
        return addresses.length === 2 ? addresses : undefined;
      },
      { what: 'two ready host endpoints' },
    );
    expect(endpoints.map((a) => a.targetRef?.name).every((n) => n?.endsWith(`-x-ns1-x-${vc.name}`))).toBe(
      true,
    );
  });
});
