import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TranslateContext } from './context.ts';
import {
  droppedVolumeBinding,
  type PvcOptions,
  pvcStatusToVirtual,
  pvcToHost,
  pvcUpdateToHost,
  pvcUpdateToVirtual,
} from './pvc.ts';

const ctx: TranslateContext = { vclusterName: 'pr-12', hostNamespace: 'preview-pr-12' };

function virtualPvc(
  spec: V1PersistentVolumeClaim['spec'] = {},
  annotations?: Record<string, string>,
): V1PersistentVolumeClaim {
  return {
    metadata: { name: 'data', namespace: 'shop', uid: 'pvc-uid', annotations },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  };
}

describe('pvcToHost', () => {
  it('names the claim for the host and keeps its request', () => {
    const host = pvcToHost(virtualPvc(), ctx);
    expect(host.metadata?.name).toBe('data-x-shop-x-pr-12');
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-kind']).toBe(
      '/v1, Kind=PersistentVolumeClaim',
    );
    expect(host.spec).toStrictEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    });
  });

  it.each<{
    name: string;
    spec: V1PersistentVolumeClaim['spec'];
    options?: { persistentVolumes: 'fake' | 'synced' };
    expected: unknown;
  }>([
    {
      name: 'clone from another claim',
      spec: { dataSource: { kind: 'PersistentVolumeClaim', name: 'seed' } },
      expected: { dataSource: { kind: 'PersistentVolumeClaim', name: 'seed-x-shop-x-pr-12' } },
    },
    {
      name: 'restore from a snapshot (dataSource and dataSourceRef)',
      spec: {
        dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap' },
        dataSourceRef: {
          apiGroup: 'snapshot.storage.k8s.io',
          kind: 'VolumeSnapshot',
          name: 'snap',
          namespace: 'backup',
        },
      },
      expected: {
        dataSource: {
          apiGroup: 'snapshot.storage.k8s.io',
          kind: 'VolumeSnapshot',
          name: 'snap-x-shop-x-pr-12',
        },
        dataSourceRef: {
          apiGroup: 'snapshot.storage.k8s.io',
          kind: 'VolumeSnapshot',
          name: 'snap-x-backup-x-pr-12',
        },
      },
    },
    {
      name: 'other populators are left alone',
      spec: { dataSourceRef: { apiGroup: 'example.com', kind: 'Populator', name: 'p' } },
      expected: { dataSourceRef: { apiGroup: 'example.com', kind: 'Populator', name: 'p' } },
    },
    {
      name: 'synced PVs: volume name and selector translated',
      spec: { volumeName: 'my-pv', selector: { matchLabels: { disk: 'ssd' } } },
      options: { persistentVolumes: 'synced' },
      expected: {
        volumeName: 'vcluster-my-pv-x-preview-pr-12-x-pr-12',
        selector: { matchLabels: { disk: 'ssd' } },
      },
    },
  ])('$name', ({ spec, options, expected }) => {
    expect(pvcToHost(virtualPvc(spec), ctx, options)).toMatchObject({ spec: expected });
  });

  // vcluster passes these through; here host PVs are every preview's, so a claim may not name one.
  it.each<{ name: string; options?: PvcOptions; annotations?: Record<string, string> }>([
    { name: 'fake PVs' },
    {
      name: 'synced PVs with skip-translate',
      options: { persistentVolumes: 'synced' },
      annotations: { 'vcluster.loft.sh/skip-translate': 'true' },
    },
  ])(
    '$name: the host volume a claim names and its PV selector stay off the host',
    ({ options, annotations }) => {
      const v = virtualPvc(
        {
          volumeName: 'pvc-1234',
          selector: { matchLabels: { release: 'a' } },
          storageClassName: 'local-path',
        },
        annotations,
      );
      const host = pvcToHost(v, ctx, options);
      expect(host.spec?.volumeName).toBeUndefined();
      expect(host.spec?.selector).toBeUndefined();
      expect(host.spec?.storageClassName).toBe('local-path');
      expect(droppedVolumeBinding(v, options)).toEqual(['volumeName', 'selector']);
    },
  );

  it('drops nothing of a claim that names no volume, or of synced PVs', () => {
    expect(droppedVolumeBinding(virtualPvc({ storageClassName: 'local-path' }))).toEqual([]);
    expect(
      droppedVolumeBinding(virtualPvc({ volumeName: 'my-pv' }), { persistentVolumes: 'synced' }),
    ).toEqual([]);
  });

  it('leaves references untouched with skip-translate', () => {
    const v = virtualPvc(
      { dataSource: { kind: 'PersistentVolumeClaim', name: 'seed' } },
      { 'vcluster.loft.sh/skip-translate': 'true' },
    );
    expect(pvcToHost(v, ctx).spec?.dataSource?.name).toBe('seed');
  });

  it('does not push binding annotations down', () => {
    const v = virtualPvc({}, { 'volume.kubernetes.io/selected-node': 'node-1', team: 'a' });
    const annotations = pvcToHost(v, ctx).metadata?.annotations;
    expect(annotations?.team).toBe('a');
    expect(annotations?.['volume.kubernetes.io/selected-node']).toBeUndefined();
  });
});

describe('pvcUpdateToHost', () => {
  const host = pvcToHost(virtualPvc(), ctx);
  host.metadata!.annotations = { ...host.metadata!.annotations, 'pv.kubernetes.io/bind-completed': 'yes' };
  host.spec!.volumeName = 'pvc-1234';
  host.spec!.storageClassName = 'standard';
  it.each<{ name: string; v: V1PersistentVolumeClaim; expected: unknown }>([
    { name: 'unchanged (host-set fields kept)', v: virtualPvc(), expected: undefined },
    {
      name: 'expanded',
      v: virtualPvc({ resources: { requests: { storage: '5Gi' } } }),
      expected: { spec: { resources: { requests: { storage: '5Gi' } } } },
    },
  ])('$name', ({ v, expected }) => {
    expect(pvcUpdateToHost(v, host, ctx)).toStrictEqual(expected);
  });
});

describe('pvcStatusToVirtual', () => {
  const bound = { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] };
  it.each<{
    name: string;
    host: V1PersistentVolumeClaim;
    virtual: V1PersistentVolumeClaim;
    expected: unknown;
  }>([
    {
      name: 'bound on the host',
      host: { status: bound },
      virtual: { status: { phase: 'Pending' } },
      expected: bound,
    },
    { name: 'already shown', host: { status: bound }, virtual: { status: bound }, expected: undefined },
    { name: 'no host status', host: {}, virtual: {}, expected: undefined },
  ])('$name', ({ host, virtual, expected }) => {
    expect(pvcStatusToVirtual(host, virtual)).toStrictEqual(expected);
  });
});

describe('pvcUpdateToVirtual', () => {
  const host: V1PersistentVolumeClaim = {
    metadata: {
      annotations: { 'pv.kubernetes.io/bind-completed': 'yes', 'vcluster.loft.sh/object-name': 'data' },
    },
    spec: { volumeName: 'pvc-1234' },
  };
  it.each<{ name: string; virtual: V1PersistentVolumeClaim; mode?: 'fake' | 'synced'; expected: unknown }>([
    {
      name: 'binds to the fake PV and copies the binding annotation',
      virtual: { metadata: {}, spec: {} },
      expected: { volumeName: 'pvc-1234', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } },
    },
    {
      name: 'already bound',
      virtual: {
        metadata: { annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } },
        spec: { volumeName: 'pvc-1234' },
      },
      expected: undefined,
    },
    {
      name: 'synced PVs keep their own volume name',
      virtual: { metadata: { annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }, spec: {} },
      mode: 'synced',
      expected: undefined,
    },
    {
      name: 'annotation removed on the host',
      virtual: {
        metadata: {
          annotations: {
            'pv.kubernetes.io/bind-completed': 'yes',
            'volume.kubernetes.io/selected-node': 'n1',
          },
        },
        spec: { volumeName: 'pvc-1234' },
      },
      expected: { annotations: { 'volume.kubernetes.io/selected-node': null } },
    },
  ])('$name', ({ virtual, mode, expected }) => {
    expect(pvcUpdateToVirtual(host, virtual, mode ? { persistentVolumes: mode } : {})).toStrictEqual(
      expected,
    );
  });
});
