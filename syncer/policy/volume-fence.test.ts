import type { V1PodSpec, V1Volume } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { storageClassRefusal, volumeRefusals } from './volume-fence.ts';

const spec = (...volumes: V1Volume[]): V1PodSpec => ({ containers: [{ name: 'app' }], volumes });

describe('volumeRefusals', () => {
  it.each([
    ['configMap', { name: 'a', configMap: { name: 'c' } }],
    ['secret', { name: 'a', secret: { secretName: 's' } }],
    ['emptyDir', { name: 'a', emptyDir: {} }],
    ['projected', { name: 'a', projected: { sources: [] } }],
    ['downwardAPI', { name: 'a', downwardAPI: { items: [] } }],
    ['persistentVolumeClaim', { name: 'a', persistentVolumeClaim: { claimName: 'data' } }],
    ['ephemeral without class', { name: 'a', ephemeral: { volumeClaimTemplate: { spec: {} } } }],
  ] as [string, V1Volume][])('allows %s', (_what, volume) => {
    expect(volumeRefusals(spec(volume), { allowedStorageClasses: ['fast'] })).toEqual([]);
  });

  it.each([
    [
      { name: 'root', hostPath: { path: '/' } },
      {},
      'volume "root" has type hostPath, which previews may not use; use one of configMap, secret, emptyDir, projected, downwardAPI, persistentVolumeClaim, ephemeral',
    ],
    [{ name: 'n', nfs: { server: 'x', path: '/' } }, {}, 'volume "n" has type nfs'],
    [
      { name: 'c', csi: { driver: 'secrets-store.csi.k8s.io' } },
      {},
      'volume "c" uses CSI driver "secrets-store.csi.k8s.io", which the operator has not allowed (none is); use a persistentVolumeClaim instead',
    ],
    [{ name: 'c', csi: { driver: 'evil.csi' } }, { allowedCsiDrivers: ['good.csi'] }, '(allowed: good.csi)'],
    [
      { name: 'e', ephemeral: { volumeClaimTemplate: { spec: { storageClassName: 'host-local' } } } },
      { allowedStorageClasses: ['fast', 'slow'] },
      'volume "e" (ephemeral): storage class "host-local" is not allowed on this host; use one of "fast", "slow" or leave storageClassName unset',
    ],
  ] as [V1Volume, object, string][])('refuses %j', (volume, options, message) => {
    const refusals = volumeRefusals(spec(volume), options);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain(message);
  });

  it('allows a CSI driver the operator allowed, and names each refused volume once', () => {
    expect(
      volumeRefusals(spec({ name: 'c', csi: { driver: 'good.csi' } }), { allowedCsiDrivers: ['good.csi'] }),
    ).toEqual([]);
    expect(
      volumeRefusals(
        spec(
          { name: 'a', hostPath: { path: '/' } },
          { name: 'b', emptyDir: {} },
          { name: 'c', nfs: { server: 's', path: '/' } },
        ),
      ),
    ).toHaveLength(2);
  });
});

describe('storageClassRefusal', () => {
  it.each([
    [{ storageClassName: 'x' }, undefined, undefined],
    [{}, ['fast'], undefined],
    [{ storageClassName: 'fast' }, ['fast'], undefined],
    [
      { storageClassName: 'x' },
      ['fast'],
      'storage class "x" is not allowed on this host; use one of "fast" or leave storageClassName unset for the host\'s default',
    ],
    [
      { storageClassName: 'x' },
      [],
      'storage class "x" is not allowed on this host; use none or leave storageClassName unset',
    ],
  ] as [object, string[] | undefined, string | undefined][])('%j with %j', (claim, allowed, expected) => {
    const refusal = storageClassRefusal(claim, allowed ? { allowedStorageClasses: allowed } : {});
    if (expected === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toContain(expected);
  });
});
