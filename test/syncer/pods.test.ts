import { createHash } from 'node:crypto';
import { AuthenticationV1Api, KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGone } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

function pod(name: string, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name, labels: { app: name, release: 'mine' } },
    spec: { containers: [{ name: 'c', image: 'nginx:1.26' }], ...extra },
  };
}

const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The content kubelet would write at `<serviceaccount dir>/token` of the first container. */
function tokenAtUsualPath(hostPod: V1Pod): string | undefined {
  const mount = hostPod.spec?.containers[0]?.volumeMounts?.find((m) => m.mountPath === TOKEN_PATH);
  const volume = hostPod.spec?.volumes?.find((v) => v.name === mount?.name);
  for (const source of volume?.projected?.sources ?? []) {
    const item = source.downwardAPI?.items?.find((i) => i.path === 'token');
    const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(item?.fieldRef?.fieldPath ?? '')?.[1];
    if (annotation) return hostPod.metadata?.annotations?.[annotation];
  }
  return undefined;
}

describe('pods', () => {
  let vc: VirtualClusterUnderTest;
  const hostName = (name: string, ns = 'default') => `${name}-x-${ns}-x-${vc.name}`;
  const readHost = (name: string) =>
    vc.host.core.readNamespacedPod({ name: hostName(name), namespace: vc.hostNamespace });
  const readVirtual = (name: string) => vc.virtual.core.readNamespacedPod({ name, namespace: 'default' });
  /** Creates a virtual pod of its own for one test and waits until it runs. */
  const runningPod = async (name: string) => {
    await vc.virtual.core.createNamespacedPod({ namespace: 'default', body: pod(name) });
    return waitUntil(
      async () => {
        const v = await readVirtual(name);
        return v.status?.phase === 'Running' ? v : undefined;
      },
      { what: `virtual pod ${name} Running` },
    );
  };
  // The virtual API server as a workload holding `token` would call it.
  const virtualAs = (token: string | undefined) => {
    const admin = vc.virtual.config;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [admin.getCurrentCluster()!],
      users: [{ name: 'sa', token }],
      contexts: [{ name: 'sa', cluster: admin.getCurrentCluster()!.name, user: 'sa' }],
      currentContext: 'sa',
    });
    return config.makeApiClient(AuthenticationV1Api);
  };

  beforeAll(async () => {
    vc = await startVirtualCluster();
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('goes down translated, and comes up Running with the host IP and node', async () => {
    await vc.virtual.core.createNamespacedPod({ namespace: 'default', body: pod('p1') });
    const host = await waitUntil(() => readHost('p1'), { what: 'host pod' });
    expect(host.metadata?.labels?.app).toBe('p1');
    // `release` would collide with the chart's own selectors: it is renamed on the host.
    expect(host.metadata?.labels?.release).toBeUndefined();
    expect(host.metadata?.labels?.['vcluster.loft.sh/managed-by']).toBe(vc.name);
    expect(host.metadata?.labels?.['vcluster.loft.sh/namespace']).toBe('default');
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-name']).toBe('p1');
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-namespace']).toBe('default');
    const virtual = await readVirtual('p1');
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-uid']).toBe(virtual.metadata?.uid);
    expect(host.spec?.hostname).toBe('p1');
    expect(host.spec?.automountServiceAccountToken).toBe(false);
    const running = await waitUntil(
      async () => {
        const v = await readVirtual('p1');
        return v.status?.phase === 'Running' ? v : undefined;
      },
      { what: 'virtual pod Running' },
    );
    // What the container reads at the usual path is a token the virtual API server accepts for the
    // pod's service account (kwok runs no kubelet: follow the mount to the file's source instead).
    const token = tokenAtUsualPath(host);
    expect(token).toMatch(/^ey/);
    const review = await virtualAs(token).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('system:serviceaccount:default:default');
    expect(review.status?.userInfo?.extra?.['authentication.kubernetes.io/pod-name']).toEqual(['p1']);
    const hostNow = await readHost('p1');
    expect(running.status?.podIP).toBe(hostNow.status?.podIP);
    expect(running.spec?.nodeName).toBe(hostNow.spec?.nodeName);
    expect(running.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('carries an image change down to the running host pod', async () => {
    const current = await runningPod('image-change');
    current.spec!.containers[0]!.image = 'nginx:1.27';
    await vc.virtual.core.replaceNamespacedPod({ name: 'image-change', namespace: 'default', body: current });
    await waitUntil(
      async () => (await readHost('image-change')).spec?.containers[0]?.image === 'nginx:1.27',
      { what: 'host image nginx:1.27' },
    );
  });

  it('deletes the host pod with the virtual grace period when the virtual pod is deleted', async () => {
    await runningPod('graceful');
    // The host may finish a terminating pod at once: watch it, so its graceful phase is seen.
    const hostStates: V1Pod[] = [];
    const watch = await new Watch(vc.host.config).watch(
      `/api/v1/namespaces/${vc.hostNamespace}/pods`,
      { fieldSelector: `metadata.name=${hostName('graceful')}` },
      (_type, object: V1Pod) => hostStates.push(object),
      () => {},
    );
    try {
      await vc.virtual.core.deleteNamespacedPod({
        name: 'graceful',
        namespace: 'default',
        gracePeriodSeconds: 7,
      });
      await waitUntil(() => isGone(() => readHost('graceful')), { what: 'host pod gone' });
      await waitUntil(() => isGone(() => readVirtual('graceful')), { what: 'virtual pod gone' });
    } finally {
      watch.abort();
    }
    const terminating = hostStates.find((state) => state.metadata?.deletionTimestamp);
    expect(terminating?.metadata?.deletionGracePeriodSeconds).toBe(7);
  });

  it('deletes the virtual pod when its host pod is deleted, and its ReplicaSet replaces it', async () => {
    await vc.virtual.apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'c', image: 'nginx' }] },
          },
        },
      },
    });
    const first = await waitUntil(
      async () => {
        const list = await vc.virtual.core.listNamespacedPod({
          namespace: 'default',
          labelSelector: 'app=web',
        });
        return list.items[0]?.status?.phase === 'Running' ? list.items[0] : undefined;
      },
      { what: 'web pod running' },
    );
    const firstName = first.metadata?.name ?? '';
    await vc.host.core.deleteNamespacedPod({ name: hostName(firstName), namespace: vc.hostNamespace });
    await waitUntil(() => isGone(() => readVirtual(firstName)), {
      what: 'virtual pod removed after its host pod',
    });
    const replacement = await waitUntil(
      async () => {
        const list = await vc.virtual.core.listNamespacedPod({
          namespace: 'default',
          labelSelector: 'app=web',
        });
        const next = list.items.find((p) => p.metadata?.name !== firstName && p.status?.phase === 'Running');
        return next;
      },
      { what: 'a replacement pod running' },
    );
    await waitUntil(() => readHost(replacement.metadata?.name ?? ''), { what: 'replacement host pod' });
  });

  it('shortens host names over 63 characters with the vcluster hash rule', async () => {
    const namespace = 'a-rather-long-namespace-name-for-testing';
    await vc.virtual.core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitUntil(() => vc.virtual.core.readNamespacedServiceAccount({ name: 'default', namespace }), {
      what: 'default service account',
    });
    const name = 'a-pod-with-a-name-long-enough-to-need-hashing';
    await vc.virtual.core.createNamespacedPod({ namespace, body: pod(name) });
    const joined = `${name}-x-${namespace}-x-${vc.name}`;
    const expected = `${joined.slice(0, 52)}-${createHash('sha256').update(joined).digest('hex').slice(0, 10)}`;
    expect(expected).toHaveLength(63);
    const host = await waitUntil(
      () => vc.host.core.readNamespacedPod({ name: expected, namespace: vc.hostNamespace }),
      {
        what: `host pod ${expected}`,
      },
    );
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-name']).toBe(name);
    await vc.virtual.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    await waitUntil(
      () => isGone(() => vc.host.core.readNamespacedPod({ name: expected, namespace: vc.hostNamespace })),
      {
        what: 'long-named host pod gone',
      },
    );
  });

  it('never adopts, updates or deletes a host pod it did not make, and says so in an event', async () => {
    const taken = hostName('taken');
    await vc.host.core.createNamespacedPod({
      namespace: vc.hostNamespace,
      body: {
        metadata: { name: taken, labels: { owner: 'someone-else' } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    });
    await vc.virtual.core.createNamespacedPod({ namespace: 'default', body: pod('taken') });
    const event = await waitUntil(
      async () => {
        const events = await vc.virtual.core.listNamespacedEvent({ namespace: 'default' });
        return events.items.find((e) => e.involvedObject.name === 'taken' && e.reason === 'SyncError');
      },
      { what: 'a SyncError event on the virtual pod' },
    );
    expect(event.type).toBe('Warning');
    expect(event.message).toContain('not managed by vcluster');
    const host = await vc.host.core.readNamespacedPod({ name: taken, namespace: vc.hostNamespace });
    expect(host.metadata?.labels).toEqual({ owner: 'someone-else' });
    expect(host.spec?.containers[0]?.image).toBe('busybox');
    // Deleting the virtual pod must not delete the unmanaged host pod either.
    await vc.virtual.core.deleteNamespacedPod({ name: 'taken', namespace: 'default', gracePeriodSeconds: 0 });
    await waitUntil(() => isGone(() => readVirtual('taken')), { what: 'virtual pod gone' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const still = await vc.host.core.readNamespacedPod({ name: taken, namespace: vc.hostNamespace });
    expect(still.metadata?.uid).toBe(host.metadata?.uid);
  });
  it('gives pods the virtual cluster DNS service as nameserver once kube-system/kube-dns is on the host', async () => {
    // Before the virtual cluster has a DNS service, pods keep the host's DNS (vcluster's fallback).
    await vc.virtual.core.createNamespacedPod({ namespace: 'default', body: pod('before-dns') });
    const before = await waitUntil(() => readHost('before-dns'), { what: 'host pod before-dns' });
    expect(before.spec?.dnsPolicy).toBe('ClusterFirst');

    const dns = await vc.virtual.core.createNamespacedService({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'kube-dns' },
        spec: { selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
      },
    });
    await vc.virtual.core.createNamespacedPod({ namespace: 'default', body: pod('after-dns') });
    const after = await waitUntil(() => readHost('after-dns'), { what: 'host pod after-dns' });
    const hostDns = await vc.host.core.readNamespacedService({
      name: hostName('kube-dns', 'kube-system'),
      namespace: vc.hostNamespace,
    });
    expect(hostDns.spec?.clusterIP).toBe(dns.spec?.clusterIP);
    expect(after.spec?.dnsPolicy).toBe('None');
    expect(after.spec?.dnsConfig).toEqual({
      nameservers: [hostDns.spec?.clusterIP],
      searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: [{ name: 'ndots', value: '5' }],
    });
    // A pod that does not use the cluster DNS is left alone.
    await vc.virtual.core.createNamespacedPod({
      namespace: 'default',
      body: pod('own-dns', { dnsPolicy: 'Default' }),
    });
    const own = await waitUntil(() => readHost('own-dns'), { what: 'host pod own-dns' });
    expect(own.spec?.dnsPolicy).toBe('Default');
    expect(own.spec?.dnsConfig).toBeUndefined();
  });
});
