import type { CoreV1Event, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergePatch } from '../../kube/patch.ts';
import { waitUntil } from '../../kube/wait.ts';
import { podSyncer } from '../../syncer/kinds/pods.ts';
import { runBinary } from '../support/kubectl.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

const WAIT = { timeoutMs: 60_000 };
describe('events about synced host objects show up in the virtual cluster', () => {
  let vc: VirtualClusterUnderTest;
  const kubectl = (...args: string[]) => runBinary('kubectl', args, { kubeconfig: vc.kubeconfigPath });
  const virtualEvents = async (...args: string[]): Promise<CoreV1Event[]> =>
    JSON.parse(await kubectl('get', 'events', ...args, '-o', 'json')).items;
  const hostEvent = (
    name: string,
    involved: KubernetesObject,
    reason: string,
    message: string,
  ): CoreV1Event => {
    const now = new Date();
    return {
      metadata: { name, namespace: vc.hostNamespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: involved.kind,
        name: involved.metadata?.name,
        namespace: vc.hostNamespace,
        uid: involved.metadata?.uid,
        fieldPath: involved.kind === 'Pod' ? 'spec.containers{web}' : undefined,
      },
      reason,
      message,
      type: 'Normal',
      source: { component: 'kubelet', host: 'kwok-node-0' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
  };

  beforeAll(async () => {
    vc = await startVirtualCluster({ resourceSyncers: [podSyncer()] as never });
    await kubectl('create', 'namespace', 'shop');
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('copies a host event about a synced pod up, pointing at the virtual pod, and never one about an unmanaged object', async () => {
    await kubectl('run', 'web', '-n', 'shop', '--image=nginx');
    const hostPodName = `web-x-shop-x-${vc.name}`;
    const hostPod = await waitUntil(
      () => vc.host.core.readNamespacedPod({ name: hostPodName, namespace: vc.hostNamespace }),
      { what: `host pod ${hostPodName}`, ...WAIT },
    );
    const virtualPod: V1Pod = JSON.parse(await kubectl('get', 'pod', 'web', '-n', 'shop', '-o', 'json'));

    // Objects in the host namespace that are not this vcluster's: a pod whose marks claim shop/web
    // under another name, and a plain configmap.
    const impostor = await vc.host.core.createNamespacedPod({
      namespace: vc.hostNamespace,
      body: {
        metadata: {
          name: 'impostor',
          labels: { 'vcluster.loft.sh/managed-by': vc.name },
          annotations: {
            'vcluster.loft.sh/object-name': 'web',
            'vcluster.loft.sh/object-namespace': 'shop',
            'vcluster.loft.sh/object-kind': '/v1, Kind=Pod',
          },
        },
        spec: { containers: [{ name: 'web', image: 'nginx' }] },
      },
    });
    const plain = await vc.host.core.createNamespacedConfigMap({
      namespace: vc.hostNamespace,
      body: { metadata: { name: 'host-only' }, data: { a: 'b' } },
    });
    await vc.host.core.createNamespacedEvent({
      namespace: vc.hostNamespace,
      body: hostEvent(
        'impostor.17f00ba5c0ffee02',
        { ...impostor, kind: 'Pod' },
        'Intruded',
        `pod ${vc.hostNamespace}/impostor says hello`,
      ),
    });
    await vc.host.core.createNamespacedEvent({
      namespace: vc.hostNamespace,
      body: hostEvent(
        'host-only.17f00ba5c0ffee03',
        { ...plain, kind: 'ConfigMap' },
        'Intruded',
        'configmap host-only changed',
      ),
    });

    // A kubelet-style event about the synced host pod.
    const eventName = `${hostPodName}.17f00ba5c0ffee01`;
    await vc.host.core.createNamespacedEvent({
      namespace: vc.hostNamespace,
      body: hostEvent(
        eventName,
        { ...hostPod, kind: 'Pod' },
        'Pulled',
        `Successfully pulled image "nginx" for pod ${vc.hostNamespace}/${hostPodName} (${hostPodName}) in 1.2s`,
      ),
    });
    const pulled = await waitUntil(
      async () => (await virtualEvents('-n', 'shop', '--field-selector', 'reason=Pulled'))[0],
      { what: 'the Pulled event in the virtual namespace', ...WAIT },
    );
    expect(pulled.metadata.name).toBe('web.17f00ba5c0ffee01');
    expect(pulled.involvedObject).toMatchObject({
      kind: 'Pod',
      name: 'web',
      namespace: 'shop',
      uid: virtualPod.metadata?.uid,
      fieldPath: 'spec.containers{web}',
    });
    expect(pulled.message).toBe('Successfully pulled image "nginx" for pod shop/web (web) in 1.2s');
    expect(pulled.count).toBe(1);
    expect(pulled.source?.component).toBe('kubelet');
    // kubectl describe lists it under the virtual pod.
    expect(await kubectl('describe', 'pod', 'web', '-n', 'shop')).toContain(
      'Successfully pulled image "nginx"',
    );

    // The host event repeats: the virtual one follows.
    await vc.host.core.patchNamespacedEvent(
      {
        name: eventName,
        namespace: vc.hostNamespace,
        body: { count: 3, lastTimestamp: new Date(Date.now() + 2000) },
      },
      mergePatch,
    );
    await waitUntil(
      async () => (await virtualEvents('-n', 'shop', '--field-selector', 'reason=Pulled'))[0]?.count === 3,
      { what: 'the virtual Pulled event to count 3', ...WAIT },
    );

    // Real events from the host: the host scheduler placing the pod.
    const scheduled = await waitUntil(
      async () =>
        (
          await virtualEvents('-n', 'shop', '--field-selector', 'involvedObject.name=web,reason=Scheduled')
        )[0],
      { what: "the host scheduler's Scheduled event in the virtual namespace", ...WAIT },
    );
    expect(scheduled.involvedObject.uid).toBe(virtualPod.metadata?.uid);
    expect(scheduled.message).toContain('shop/web');
    expect(scheduled.message).not.toContain(hostPodName);

    // By now the events about the unmanaged objects, created before, were looked at: none came up.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const all = await virtualEvents('-A');
    expect(all.filter((e) => e.reason === 'Intruded')).toEqual([]);
    expect(JSON.stringify(all)).not.toContain('impostor');
    expect(JSON.stringify(all)).not.toContain('host-only');
    expect(JSON.stringify(all)).not.toContain(vc.hostNamespace);
  });

  it('never copies events down', async () => {
    await kubectl('run', 'api', '-n', 'shop', '--image=nginx');
    const pod: V1Pod = JSON.parse(await kubectl('get', 'pod', 'api', '-n', 'shop', '-o', 'json'));
    await vc.virtual.core.createNamespacedEvent({
      namespace: 'shop',
      body: {
        metadata: { name: 'api.17f00ba5c0ffee04', namespace: 'shop' },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: 'api',
          namespace: 'shop',
          uid: pod.metadata?.uid,
        },
        reason: 'VirtualOnly',
        message: 'made in the virtual cluster',
        type: 'Normal',
        firstTimestamp: new Date(),
        lastTimestamp: new Date(),
        count: 1,
      },
    });
    await waitUntil(
      () => vc.host.core.readNamespacedPod({ name: `api-x-shop-x-${vc.name}`, namespace: vc.hostNamespace }),
      { what: 'host pod for api', ...WAIT },
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const hostEvents = await vc.host.core.listNamespacedEvent({ namespace: vc.hostNamespace });
    expect(hostEvents.items.filter((e) => e.reason === 'VirtualOnly')).toEqual([]);
  });
});
