import { StorageV1Api, type V1PersistentVolumeClaim, type V1StorageClass } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGone } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { configMapSyncer } from '../../syncer/kinds/configmaps.ts';
import { persistentVolumeClaimSyncer } from '../../syncer/kinds/persistent-volume-claims.ts';
import { podSyncer } from '../../syncer/kinds/pods.ts';
import { secretSyncer } from '../../syncer/kinds/secrets.ts';
import { runBinary } from '../support/kubectl.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

const NS = 'data';
const WAIT = { timeoutMs: 60_000 };

describe('persistent volume claims', () => {
  let vc: VirtualClusterUnderTest;
  // Cluster-scoped objects on the shared host get names of their own and are removed afterwards.
  let storageClass: string;
  let volume: string;
  const kubectl = (...args: string[]) => runBinary('kubectl', args, { kubeconfig: vc.kubeconfigPath });
  const hostName = (name: string) => `${name}-x-${NS}-x-${vc.name}`;
  const readHost = (name: string) =>
    vc.host.core.readNamespacedPersistentVolumeClaim({ name: hostName(name), namespace: vc.hostNamespace });
  const readVirtual = (name: string) =>
    vc.virtual.core.readNamespacedPersistentVolumeClaim({ name, namespace: NS });
  const claim = (name: string): V1PersistentVolumeClaim => ({
    metadata: { name, labels: { app: 'db' }, annotations: { backup: 'daily' } },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: storageClass,
      resources: { requests: { storage: '1Gi' } },
    },
  });
  const waitFor = <T>(check: () => Promise<T | undefined>, what: string) =>
    waitUntil<T>(check, { what, ...WAIT });

  beforeAll(async () => {
    vc = await startVirtualCluster({
      resourceSyncers: [
        podSyncer(),
        configMapSyncer(),
        secretSyncer(),
        persistentVolumeClaimSyncer(),
      ] as never,
    });
    storageClass = `vcp-${vc.name}`;
    volume = `vcp-${vc.name}-pv`;
    // No provisioner runs: the class only lets claims be matched and resized (the resize admission
    // plugin asks for allowVolumeExpansion on both sides).
    const sc: V1StorageClass = {
      metadata: { name: storageClass },
      provisioner: 'example.com/none',
      allowVolumeExpansion: true,
      volumeBindingMode: 'Immediate',
    };
    await vc.host.config.makeApiClient(StorageV1Api).createStorageClass({ body: sc });
    await vc.virtual.config.makeApiClient(StorageV1Api).createStorageClass({ body: sc });
    await kubectl('create', 'namespace', NS);
  });
  afterAll(async () => {
    await vc?.stop();
    await vc?.host.core.deletePersistentVolume({ name: volume }).catch(() => {});
    await vc?.host.config
      .makeApiClient(StorageV1Api)
      .deleteStorageClass({ name: storageClass })
      .catch(() => {});
  });

  it('goes down as <name>-x-<ns>-x-<vc> with its spec, labels and annotations, Pending like its host claim', async () => {
    await vc.virtual.core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('db') });
    const host = await waitFor(() => readHost('db'), 'host claim');
    const virtual = await readVirtual('db');
    expect(host.spec?.storageClassName).toBe(storageClass);
    expect(host.spec?.accessModes).toEqual(['ReadWriteOnce']);
    expect(host.spec?.resources?.requests).toEqual({ storage: '1Gi' });
    expect(host.metadata?.labels).toMatchObject({
      app: 'db',
      'vcluster.loft.sh/managed-by': vc.name,
      'vcluster.loft.sh/namespace': NS,
    });
    expect(host.metadata?.annotations).toMatchObject({
      backup: 'daily',
      'vcluster.loft.sh/object-name': 'db',
      'vcluster.loft.sh/object-namespace': NS,
      'vcluster.loft.sh/object-uid': virtual.metadata?.uid,
      'vcluster.loft.sh/object-kind': '/v1, Kind=PersistentVolumeClaim',
    });
    expect(host.status?.phase).toBe('Pending');
    expect(virtual.status?.phase).toBe('Pending');
  });

  it('carries label edits down', async () => {
    await kubectl('label', 'pvc', 'db', '-n', NS, 'tier=storage');
    await waitFor(async () => {
      const host = await readHost('db');
      return host.metadata?.labels?.tier === 'storage' ? host : undefined;
    }, 'the new label on the host claim');
  });

  it('shows the binding the host makes: Bound, the volume name, capacity and bind annotations', async () => {
    // The host has no provisioner: bind by hand with a volume reserved for the host claim.
    await vc.host.core.createPersistentVolume({
      body: {
        metadata: { name: volume },
        spec: {
          capacity: { storage: '2Gi' },
          accessModes: ['ReadWriteOnce'],
          storageClassName: storageClass,
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path: `/tmp/${volume}` },
          claimRef: { namespace: vc.hostNamespace, name: hostName('db') },
        },
      },
    });
    const bound = await waitFor(async () => {
      const virtual = await readVirtual('db');
      return virtual.status?.phase === 'Bound' ? virtual : undefined;
    }, 'the virtual claim to be Bound');
    expect(bound.spec?.volumeName).toBe(volume);
    expect(bound.status?.capacity).toEqual({ storage: '2Gi' });
    expect(bound.status?.accessModes).toEqual(['ReadWriteOnce']);
    expect(bound.metadata?.annotations?.['pv.kubernetes.io/bind-completed']).toBe('yes');
    const out = await kubectl(
      'get',
      'pvc',
      'db',
      '-n',
      NS,
      '-o',
      'jsonpath={.status.phase} {.spec.volumeName}',
    );
    expect(out).toBe(`Bound ${volume}`);
  });

  it('a claim naming a host volume (another tenant’s disk) gets no such binding on the host, with an event', async () => {
    const thief = claim('thief');
    thief.spec = { ...thief.spec, volumeName: volume, selector: { matchLabels: { tenant: 'other' } } };
    await vc.virtual.core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: thief });
    const host = await waitFor(() => readHost('thief').catch(() => undefined), 'the host claim of thief');
    expect(host.spec?.volumeName).toBeUndefined();
    expect(host.spec?.selector).toBeUndefined();
    expect(host.spec?.storageClassName).toBe(storageClass);
    const events = await waitFor(async () => {
      const list = await vc.virtual.core.listNamespacedEvent({
        namespace: NS,
        fieldSelector: 'involvedObject.name=thief,reason=VolumeBindingDropped',
      });
      return list.items.length > 0 ? list.items : undefined;
    }, 'a VolumeBindingDropped event on the virtual claim');
    expect(events[0]?.message).toContain('volumeName and selector left out on the host');
    // The volume stays the claim's it was reserved for.
    const pv = await vc.host.core.readPersistentVolume({ name: volume });
    expect(pv.spec?.claimRef?.name).toBe(hostName('db'));
    await vc.virtual.core.deleteNamespacedPersistentVolumeClaim({ name: 'thief', namespace: NS });
  });

  it('carries a resize of the bound claim down', async () => {
    await kubectl(
      'patch',
      'pvc',
      'db',
      '-n',
      NS,
      '--type=merge',
      '-p',
      '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}',
    );
    await waitFor(async () => {
      const host = await readHost('db');
      return host.spec?.resources?.requests?.storage === '3Gi' ? host : undefined;
    }, 'the host claim to request 3Gi');
  });

  it('deleting the virtual claim deletes the host claim', async () => {
    await kubectl('delete', 'pvc', 'db', '-n', NS, '--wait=false');
    await waitFor(() => isGone(() => readHost('db')), 'host claim to be gone');
    await waitFor(() => isGone(() => readVirtual('db')), 'virtual claim to be gone');
  });

  it('deleting the host claim deletes the virtual claim', async () => {
    await vc.virtual.core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('cache') });
    await waitFor(() => readHost('cache'), 'host claim');
    await vc.host.core.deleteNamespacedPersistentVolumeClaim({
      name: hostName('cache'),
      namespace: vc.hostNamespace,
    });
    await waitFor(() => isGone(() => readVirtual('cache')), 'virtual claim to be gone');
    // and it is not made again on the host
    expect(await isGone(() => readHost('cache'))).toBe(true);
  });

  it('a pod using a claim runs on the host with the host claim', async () => {
    await vc.virtual.core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim('files') });
    await waitUntil(
      () =>
        vc.virtual.core.createNamespacedPod({
          namespace: NS,
          body: {
            metadata: { name: 'writer' },
            spec: {
              containers: [{ name: 'app', image: 'nginx:1.27' }],
              volumes: [{ name: 'files', persistentVolumeClaim: { claimName: 'files' } }],
            },
          },
        }),
      { what: 'virtual pod writer', ...WAIT },
    );
    const hostPod = await waitFor(
      () => vc.host.core.readNamespacedPod({ name: hostName('writer'), namespace: vc.hostNamespace }),
      'host pod writer',
    );
    expect(hostPod.spec?.volumes?.find((v) => v.name === 'files')?.persistentVolumeClaim?.claimName).toBe(
      hostName('files'),
    );
    // the claim was made before the pod that needs it
    const hostClaim = await readHost('files');
    expect(new Date(hostClaim.metadata?.creationTimestamp ?? 0).getTime()).toBeLessThanOrEqual(
      new Date(hostPod.metadata?.creationTimestamp ?? 0).getTime(),
    );
  });
});
