import { type ChildProcess, execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CoreV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isGone } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { kubeconfigFile } from '../support/kubectl.ts';
import { startSyncerProcess } from '../support/syncer-process.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

/** Issue #11: services and hand-written endpoints cannot reach beyond the preview's own pods. */

async function eventFor(vc: VirtualClusterUnderTest, name: string, reason: string): Promise<CoreV1Event> {
  return waitUntil(
    async () => {
      const events = await vc.virtual.core.listNamespacedEvent({
        namespace: 'default',
        fieldSelector: `involvedObject.name=${name},reason=${reason}`,
      });
      return events.items[0];
    },
    { what: `${reason} event on ${name}` },
  );
}

const hostName = (vc: VirtualClusterUnderTest, name: string) => `${name}-x-default-x-${vc.name}`;

describe('a syncer without --allow-service-types', () => {
  let vc: VirtualClusterUnderTest;
  const readHostService = (name: string) =>
    vc.host.core.readNamespacedService({ name: hostName(vc, name), namespace: vc.hostNamespace });
  const readHostEndpoints = (name: string) =>
    vc.host.core.readNamespacedEndpoints({ name: hostName(vc, name), namespace: vc.hostNamespace });
  let podIP = '';

  beforeAll(async () => {
    vc = await startVirtualCluster();
    await vc.virtual.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'db', labels: { app: 'db' } },
        spec: { containers: [{ name: 'db', image: 'postgres' }] },
      },
    });
    const pod = await waitUntil(
      async () => {
        const p = await vc.virtual.core.readNamespacedPod({ name: 'db', namespace: 'default' });
        return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      { what: 'pod db running with an IP' },
    );
    podIP = pod.status?.podIP ?? '';
    // The honest service beside every attack below.
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'db' }, ports: [{ port: 80 }] } },
    });
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('never syncs an ExternalName service, and says why on it', async () => {
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'alias' },
        spec: { type: 'ExternalName', externalName: 'kubernetes.default.svc.cluster.local' },
      },
    });
    const event = await eventFor(vc, 'alias', 'ServiceNotSynced');
    expect(event.type).toBe('Warning');
    expect(event.involvedObject.kind).toBe('Service');
    expect(event.message).toContain('Service of type ExternalName (kubernetes.default.svc.cluster.local)');
    expect(event.message).toContain('previews may not create DNS aliases in the shared cluster');
    // the honest service beside it reached the host; the alias did not
    const web = await waitUntil(() => readHostService('web'), { what: 'host service web' });
    expect(web.spec?.type).toBe('ClusterIP');
    expect(await isGone(() => readHostService('alias'))).toBe(true);
  });

  it('takes a service off the host when it turns into ExternalName', async () => {
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'turncoat' }, spec: { ports: [{ port: 80 }] } },
    });
    await waitUntil(() => readHostService('turncoat'), { what: 'host service turncoat' });
    await vc.virtual.core.replaceNamespacedService({
      name: 'turncoat',
      namespace: 'default',
      body: {
        metadata: { name: 'turncoat' },
        spec: { type: 'ExternalName', externalName: 'example.com' },
      },
    });
    await waitUntil(() => isGone(() => readHostService('turncoat')), { what: 'host service turncoat gone' });
    await eventFor(vc, 'turncoat', 'ServiceNotSynced');
  });

  it.each(['NodePort', 'LoadBalancer'] as const)(
    'syncs a %s service as ClusterIP without node ports, and says so',
    async (type) => {
      const name = type.toLowerCase();
      await vc.virtual.core.createNamespacedService({
        namespace: 'default',
        body: {
          metadata: { name },
          spec: { type, selector: { app: 'db' }, ports: [{ port: 5432, nodePort: 30000 + name.length }] },
        },
      });
      const host = await waitUntil(() => readHostService(name), { what: `host service ${name}` });
      expect(host.spec?.type).toBe('ClusterIP');
      expect(host.spec?.ports?.map((p) => p.nodePort)).toEqual([undefined]);
      expect(host.spec?.externalTrafficPolicy).toBeUndefined();
      const event = await eventFor(vc, name, 'ServiceTypeChanged');
      expect(event.type).toBe('Warning');
      expect(event.message).toContain(
        `Service type ${type} is not allowed on the host cluster (only ClusterIP is allowed by the operator): synced as ClusterIP`,
      );
      // the virtual service still works inside the preview: it carries the host ClusterIP
      const virtual = await waitUntil(
        async () => {
          const v = await vc.virtual.core.readNamespacedService({ name, namespace: 'default' });
          return v.spec?.clusterIP === host.spec?.clusterIP ? v : undefined;
        },
        { what: `virtual ${name} with the host ClusterIP` },
      );
      expect(virtual.spec?.type).toBe(type);
    },
  );

  it('copies hand-written endpoints of its own pods, refuses any other address, and says why', async () => {
    for (const name of ['own', 'evil']) {
      await vc.virtual.core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name }, spec: { ports: [{ port: 5432 }] } },
      });
    }
    await vc.virtual.core.createNamespacedEndpoints({
      namespace: 'default',
      body: {
        metadata: { name: 'own' },
        subsets: [{ addresses: [{ ip: podIP }], ports: [{ port: 5432 }] }],
      },
    });
    // the host API server's service IP and an address outside the cluster: neither is a pod of ours
    // (link-local addresses such as 169.254.169.254 the API server refuses itself)
    await vc.virtual.core.createNamespacedEndpoints({
      namespace: 'default',
      body: {
        metadata: { name: 'evil' },
        subsets: [
          { addresses: [{ ip: podIP }, { ip: '10.96.0.1' }], ports: [{ port: 5432 }] },
          { notReadyAddresses: [{ ip: '192.0.2.10' }], ports: [{ port: 80 }] },
        ],
      },
    });
    const own = await waitUntil(() => readHostEndpoints('own'), { what: 'host endpoints own' });
    expect(own.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual([podIP]);
    const event = await eventFor(vc, 'evil', 'EndpointsNotSynced');
    expect(event.type).toBe('Warning');
    expect(event.involvedObject.kind).toBe('Endpoints');
    expect(event.message).toBe(
      'Endpoints not synced to the host cluster: addresses 10.96.0.1, 192.0.2.10 are not the IP of a pod ' +
        'of this preview. Hand-written endpoints may only point at the preview’s own pods; give the service a ' +
        'selector, or list only your pods’ IPs.',
    );
    expect(await isGone(() => readHostEndpoints('evil'))).toBe(true);
  });

  it('removes copied endpoints from the host once they point elsewhere', async () => {
    await vc.virtual.core.replaceNamespacedEndpoints({
      name: 'own',
      namespace: 'default',
      body: {
        metadata: { name: 'own' },
        subsets: [{ addresses: [{ ip: '198.51.100.7' }], ports: [{ port: 5432 }] }],
      },
    });
    await waitUntil(() => isGone(() => readHostEndpoints('own')), { what: 'host endpoints own gone' });
    const event = await eventFor(vc, 'own', 'EndpointsNotSynced');
    expect(event.message).toContain('address 198.51.100.7 is not the IP of a pod of this preview');
  });

  it('removes copied endpoints from the host once their pod is gone (its IP may go to another pod)', async () => {
    await vc.virtual.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'tmp' }, spec: { containers: [{ name: 'tmp', image: 'postgres' }] } },
    });
    const pod = await waitUntil(
      async () => {
        const p = await vc.virtual.core.readNamespacedPod({ name: 'tmp', namespace: 'default' });
        return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      { what: 'pod tmp running with an IP' },
    );
    const ip = pod.status?.podIP ?? '';
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'stale' }, spec: { ports: [{ port: 5432 }] } },
    });
    await vc.virtual.core.createNamespacedEndpoints({
      namespace: 'default',
      body: { metadata: { name: 'stale' }, subsets: [{ addresses: [{ ip }], ports: [{ port: 5432 }] }] },
    });
    await waitUntil(() => readHostEndpoints('stale'), { what: 'host endpoints stale' });
    await vc.virtual.core.deleteNamespacedPod({ name: 'tmp', namespace: 'default', gracePeriodSeconds: 0 });
    await waitUntil(
      async () =>
        (await isGone(() =>
          vc.host.core.readNamespacedPod({ name: hostName(vc, 'tmp'), namespace: vc.hostNamespace }),
        )) && (await isGone(() => readHostEndpoints('stale'))),
      { what: 'host pod tmp and host endpoints stale gone', timeoutMs: 45_000 },
    );
    const event = await eventFor(vc, 'stale', 'EndpointsNotSynced');
    expect(event.message).toContain(`address ${ip} is not the IP of a pod of this preview`);
    // the honest service beside it is untouched
    expect((await readHostService('web')).spec?.type).toBe('ClusterIP');
  });
});

describe('a syncer with --allow-service-types=NodePort', () => {
  let vc: VirtualClusterUnderTest;
  const readHostService = (name: string) =>
    vc.host.core.readNamespacedService({ name: hostName(vc, name), namespace: vc.hostNamespace });

  beforeAll(async () => {
    vc = await startVirtualCluster({ allowedServiceTypes: ['NodePort'] });
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('keeps NodePort on the host, with the host’s node port shown in the virtual cluster', async () => {
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } },
    });
    const host = await waitUntil(() => readHostService('np'), { what: 'host service np' });
    expect(host.spec?.type).toBe('NodePort');
    const nodePort = host.spec?.ports?.[0]?.nodePort;
    expect(nodePort).toBeGreaterThan(0);
    await waitUntil(
      async () => {
        const v = await vc.virtual.core.readNamespacedService({ name: 'np', namespace: 'default' });
        return v.spec?.ports?.[0]?.nodePort === nodePort;
      },
      { what: 'virtual np with the host node port' },
    );
  });

  it('still syncs LoadBalancer as ClusterIP, naming what is allowed', async () => {
    await vc.virtual.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
    });
    const host = await waitUntil(() => readHostService('lb'), { what: 'host service lb' });
    expect(host.spec?.type).toBe('ClusterIP');
    const event = await eventFor(vc, 'lb', 'ServiceTypeChanged');
    expect(event.message).toContain('(only ClusterIP, NodePort are allowed by the operator)');
  });
});

describe('vcluster-preview syncer --allow-service-types', () => {
  let vc: VirtualClusterUnderTest;
  let child: ChildProcess | undefined;
  let hostKubeconfig: string;
  const cli = join(import.meta.dirname, '..', '..', 'cli', 'vcluster-preview.js');
  const readHostService = (name: string) =>
    vc.host.core.readNamespacedService({ name: hostName(vc, name), namespace: vc.hostNamespace });

  beforeAll(async () => {
    vc = await startVirtualCluster();
    await vc.stopSyncer();
    hostKubeconfig = await kubeconfigFile(inject('hostKubeconfig'));
    const syncer = await startSyncerProcess({
      name: vc.name,
      hostNamespace: vc.hostNamespace,
      hostKubeconfigPath: hostKubeconfig,
      virtualKubeconfigPath: vc.kubeconfigPath,
      extraArgs: ['--allow-service-types=LoadBalancer'],
      readyTimeoutMs: 60_000,
    });
    child = syncer.child;
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await vc?.stop();
  });

  it('lets the allowed type through and holds the others to ClusterIP', async () => {
    for (const type of ['LoadBalancer', 'NodePort'] as const) {
      await vc.virtual.core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name: type.toLowerCase() }, spec: { type, ports: [{ port: 80 }] } },
      });
    }
    const lb = await waitUntil(() => readHostService('loadbalancer'), { what: 'host service loadbalancer' });
    expect(lb.spec?.type).toBe('LoadBalancer');
    const np = await waitUntil(() => readHostService('nodeport'), { what: 'host service nodeport' });
    expect(np.spec?.type).toBe('ClusterIP');
    const event = await eventFor(vc, 'nodeport', 'ServiceTypeChanged');
    expect(event.message).toContain('(only ClusterIP, LoadBalancer are allowed by the operator)');
  });

  it('exits non-zero with a clear message for a type that cannot be allowed', async () => {
    await expect(
      promisify(execFile)(process.execPath, [
        cli,
        'syncer',
        `--name=${vc.name}`,
        `--host-namespace=${vc.hostNamespace}`,
        `--host-kubeconfig=${hostKubeconfig}`,
        `--virtual-kubeconfig=${vc.kubeconfigPath}`,
        '--health-port=0',
        '--allow-service-types=NodePort,ExternalName',
      ]),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        '--allow-service-types: "ExternalName" is not a service type that can be allowed; use a comma-separated list of NodePort, LoadBalancer',
      ),
    });
  });
});
