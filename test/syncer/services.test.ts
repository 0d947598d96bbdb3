import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGone } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

describe('services and endpoints', () => {
  let vc: VirtualClusterUnderTest;
  const hostName = (name: string) => `${name}-x-default-x-${vc.name}`;
  const readHost = (name: string) =>
    vc.host.core.readNamespacedService({ name: hostName(name), namespace: vc.hostNamespace });

  beforeAll(async () => {
    vc = await startVirtualCluster();
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('translates the selector and keeps the virtual ClusterIP equal to the host one', async () => {
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'api' },
        spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    const host = await waitUntil(() => readHost('api'), { what: 'host service' });
    expect(host.spec?.selector).toEqual({
      app: 'api',
      'vcluster.loft.sh/managed-by': vc.name,
      'vcluster.loft.sh/namespace': 'default',
    });
    const virtual = await vc.virtual.core.readNamespacedService({ name: 'api', namespace: 'default' });
    expect(virtual.spec?.clusterIP).toBe(host.spec?.clusterIP);
  });

  it('recreates the virtual service with the host ClusterIP when the two differ', async () => {
    // Take the IP the virtual API server will hand out next on the host first, so they must differ.
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'probe' }, spec: { ports: [{ port: 1 }] } },
    });
    const probe = await vc.virtual.core.readNamespacedService({ name: 'probe', namespace: 'default' });
    const blocked = probe.spec?.clusterIP ?? '';
    await vc.virtual.core.deleteNamespacedService({ name: 'probe', namespace: 'default' });
    await waitUntil(() => isGone(() => readHost('probe')), { what: 'probe gone from the host' });
    await vc.host.core.createNamespacedService({
      namespace: vc.hostNamespace,
      body: { metadata: { name: `blocker-${vc.name}` }, spec: { clusterIP: blocked, ports: [{ port: 1 }] } },
    });
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'web', labels: { tier: 'front' } },
        spec: { clusterIP: blocked, selector: { app: 'web' }, ports: [{ port: 80 }] },
      },
    });
    const host = await waitUntil(() => readHost('web'), { what: 'host service web' });
    expect(host.spec?.clusterIP).not.toBe(blocked);
    const virtual = await waitUntil(
      async () => {
        const v = await vc.virtual.core.readNamespacedService({ name: 'web', namespace: 'default' });
        return v.spec?.clusterIP === host.spec?.clusterIP ? v : undefined;
      },
      { what: 'virtual service web recreated with the host ClusterIP' },
    );
    expect(virtual.metadata?.labels).toEqual({ tier: 'front' });
    expect(virtual.spec?.selector).toEqual({ app: 'web' });
  });

  it('copies endpoints of a selector-less service, and never those of a selector service', async () => {
    // Hand-written endpoints are copied only when they point at this virtual cluster's own pods.
    await vc.virtual.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'pg' }, spec: { containers: [{ name: 'pg', image: 'postgres' }] } },
    });
    const pod = await waitUntil(
      async () => {
        const p = await vc.virtual.core.readNamespacedPod({ name: 'pg', namespace: 'default' });
        return p.status?.podIP ? p : undefined;
      },
      { what: 'pod pg with an IP' },
    );
    const podIP = pod.status?.podIP ?? '';
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'external' }, spec: { ports: [{ port: 5432 }] } },
    });
    await vc.virtual.core.createNamespacedEndpoints({
      namespace: 'default',
      body: {
        metadata: { name: 'external' },
        subsets: [{ addresses: [{ ip: podIP }], ports: [{ port: 5432 }] }],
      },
    });
    const endpoints = await waitUntil(
      () => vc.host.core.readNamespacedEndpoints({ name: hostName('external'), namespace: vc.hostNamespace }),
      { what: 'host endpoints for the selector-less service' },
    );
    expect(endpoints.subsets?.[0]?.addresses?.[0]?.ip).toBe(podIP);
    expect(endpoints.metadata?.labels?.['vcluster.loft.sh/managed-by']).toBe(vc.name);
    // The selector service's host endpoints belong to the host's endpoints controller, not to us.
    const api = await waitUntil(
      () => vc.host.core.readNamespacedEndpoints({ name: hostName('api'), namespace: vc.hostNamespace }),
      { what: 'host endpoints of the api service (made by the host)' },
    );
    // (It carries the service's labels, as the host endpoints controller copies them, but not our marks.)
    expect(api.metadata?.annotations?.['vcluster.loft.sh/object-name']).toBeUndefined();
  });

  it('deletes the host service when the virtual one is deleted', async () => {
    await vc.virtual.core.deleteNamespacedService({ name: 'api', namespace: 'default' });
    await waitUntil(() => isGone(() => readHost('api')), { what: 'host service api gone' });
  });
});

describe('two virtual clusters side by side', () => {
  let a: VirtualClusterUnderTest;
  let b: VirtualClusterUnderTest;

  beforeAll(async () => {
    [a, b] = await Promise.all([startVirtualCluster(), startVirtualCluster()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('keep the same virtual names apart, each in its own host namespace', async () => {
    for (const vc of [a, b]) {
      await vc.virtual.core.createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name: 'same' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      });
      await vc.virtual.core.createNamespacedConfigMap({
        namespace: 'default',
        body: {
          metadata: { name: 'cfg', annotations: { 'vcluster.loft.sh/force-sync': 'true' } },
          data: { who: vc.name },
        },
      });
    }
    for (const vc of [a, b]) {
      const other = vc === a ? b : a;
      await waitUntil(
        async () => {
          const pod = await vc.virtual.core.readNamespacedPod({ name: 'same', namespace: 'default' });
          return pod.status?.phase === 'Running';
        },
        { what: `pod same running in ${vc.name}` },
      );
      const pods = (await vc.host.core.listNamespacedPod({ namespace: vc.hostNamespace })).items.map(
        (p) => p.metadata?.name,
      );
      expect(pods).toEqual([`same-x-default-x-${vc.name}`]);
      const cm = await waitUntil(
        () =>
          vc.host.core.readNamespacedConfigMap({
            name: `cfg-x-default-x-${vc.name}`,
            namespace: vc.hostNamespace,
          }),
        { what: 'host configmap' },
      );
      expect(cm.data).toEqual({ who: vc.name });
      // Nothing of the other one lands in this host namespace.
      const all = (await vc.host.core.listNamespacedConfigMap({ namespace: vc.hostNamespace })).items;
      expect(all.some((c) => c.metadata?.name?.includes(other.name))).toBe(false);
    }
  });
});
