import type { CoreV1Event, V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConflict, isGone } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { configMapSyncer } from '../../syncer/kinds/configmaps.ts';
import { persistentVolumeClaimSyncer } from '../../syncer/kinds/persistent-volume-claims.ts';
import { podSyncer } from '../../syncer/kinds/pods.ts';
import { secretSyncer } from '../../syncer/kinds/secrets.ts';
import { runBinary } from '../support/kubectl.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

const NS = 'shop';
const WAIT = { timeoutMs: 60_000 };
const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pod(name: string, spec: Partial<V1Pod['spec']>): V1Pod {
  return {
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ...spec },
  };
}

describe('configmaps and secrets: synced while used', () => {
  let vc: VirtualClusterUnderTest;
  const kubectl = (...args: string[]) => runBinary('kubectl', args, { kubeconfig: vc.kubeconfigPath });
  const hostName = (name: string, ns = NS) => `${name}-x-${ns}-x-${vc.name}`;
  const readHostConfigMap = (name: string) =>
    vc.host.core.readNamespacedConfigMap({ name: hostName(name), namespace: vc.hostNamespace });
  const readHostSecret = (name: string) =>
    vc.host.core.readNamespacedSecret({ name: hostName(name), namespace: vc.hostNamespace });
  const createConfigMap = (body: V1ConfigMap) =>
    vc.virtual.core.createNamespacedConfigMap({ namespace: NS, body });
  const createSecret = (body: V1Secret) => vc.virtual.core.createNamespacedSecret({ namespace: NS, body });
  // The namespace's default service account appears shortly after the namespace.
  const createPod = (body: V1Pod) =>
    waitUntil(
      async () => {
        try {
          return await vc.virtual.core.createNamespacedPod({ namespace: NS, body });
        } catch (error) {
          if (isConflict(error))
            return vc.virtual.core.readNamespacedPod({ name: body.metadata?.name ?? '', namespace: NS });
          throw error;
        }
      },
      { what: `virtual pod ${body.metadata?.name}`, ...WAIT },
    );
  const deletePod = (name: string) => kubectl('delete', 'pod', name, '-n', NS, '--wait=false');
  const waitHost = <T>(read: () => Promise<T | undefined>, what: string) =>
    waitUntil<T>(read, { what, ...WAIT });
  const waitGone = (read: () => Promise<unknown>, what: string) =>
    waitUntil(() => isGone(read), { what: `${what} to be gone`, ...WAIT });

  beforeAll(async () => {
    vc = await startVirtualCluster({
      resourceSyncers: [
        podSyncer(),
        configMapSyncer(),
        secretSyncer(),
        persistentVolumeClaimSyncer(),
      ] as never,
    });
    await kubectl('create', 'namespace', NS);
  });
  afterAll(async () => {
    await vc?.stop();
  });

  describe('configmaps', () => {
    it('come down under <name>-x-<ns>-x-<vc> once a pod uses them by volume, env or envFrom; unused ones stay off', async () => {
      await createConfigMap({ metadata: { name: 'lonely' }, data: { a: '1' } });
      for (const name of ['cm-volume', 'cm-env', 'cm-envfrom']) {
        await createConfigMap({
          metadata: { name, labels: { app: 'shop', release: 'v1' }, annotations: { team: 'web' } },
          data: { key: `value of ${name}` },
        });
      }
      await createPod(
        pod('web', {
          volumes: [{ name: 'config', configMap: { name: 'cm-volume' } }],
          containers: [
            {
              name: 'app',
              image: 'nginx:1.27',
              env: [{ name: 'KEY', valueFrom: { configMapKeyRef: { name: 'cm-env', key: 'key' } } }],
              envFrom: [{ configMapRef: { name: 'cm-envfrom' } }],
            },
          ],
        }),
      );

      for (const name of ['cm-volume', 'cm-env', 'cm-envfrom']) {
        const host = await waitHost(() => readHostConfigMap(name), `host configmap ${name}`);
        const virtual = await vc.virtual.core.readNamespacedConfigMap({ name, namespace: NS });
        expect(host.metadata?.name).toBe(`${name}-x-${NS}-x-${vc.name}`);
        expect(host.data).toEqual({ key: `value of ${name}` });
        expect(host.metadata?.labels?.app).toBe('shop');
        expect(host.metadata?.labels?.release).toBeUndefined();
        expect(host.metadata?.labels?.['vcluster.loft.sh/managed-by']).toBe(vc.name);
        expect(host.metadata?.labels?.['vcluster.loft.sh/namespace']).toBe(NS);
        expect(host.metadata?.annotations).toMatchObject({
          team: 'web',
          'vcluster.loft.sh/object-name': name,
          'vcluster.loft.sh/object-namespace': NS,
          'vcluster.loft.sh/object-uid': virtual.metadata?.uid,
          'vcluster.loft.sh/object-kind': '/v1, Kind=ConfigMap',
        });
      }
      // the host pod mounts the host copy
      const hostPod = await waitHost(
        () => vc.host.core.readNamespacedPod({ name: hostName('web'), namespace: vc.hostNamespace }),
        'host pod web',
      );
      expect(hostPod.spec?.volumes?.find((v) => v.name === 'config')?.configMap?.name).toBe(
        hostName('cm-volume'),
      );
      expect(await isGone(() => readHostConfigMap('lonely'))).toBe(true);
    });

    it("bring down kube-root-ca.crt, which every pod's service-account volume projects, with the virtual CA", async () => {
      const host = await waitHost(() => readHostConfigMap('kube-root-ca.crt'), 'host kube-root-ca.crt copy');
      const virtual = await vc.virtual.core.readNamespacedConfigMap({
        name: 'kube-root-ca.crt',
        namespace: NS,
      });
      expect(host.data?.['ca.crt']).toBe(virtual.data?.['ca.crt']);
      const hostPod = await vc.host.core.readNamespacedPod({
        name: hostName('web'),
        namespace: vc.hostNamespace,
      });
      const projected = hostPod.spec?.volumes?.flatMap((v) => v.projected?.sources ?? []) ?? [];
      expect(projected.map((s) => s.configMap?.name)).toContain(hostName('kube-root-ca.crt'));
      // the host namespace's own root CA configmap is someone else's and stays as it is
      const own = await vc.host.core.readNamespacedConfigMap({
        name: 'kube-root-ca.crt',
        namespace: vc.hostNamespace,
      });
      expect(own.metadata?.labels?.['vcluster.loft.sh/managed-by']).toBeUndefined();
      expect(own.data?.['ca.crt']).not.toBe(virtual.data?.['ca.crt']);
    });

    it('carry data and label edits down', async () => {
      await kubectl(
        'patch',
        'configmap',
        'cm-volume',
        '-n',
        NS,
        '--type=merge',
        '-p',
        JSON.stringify({ metadata: { labels: { tier: 'front' } }, data: { key: 'edited', more: 'x' } }),
      );
      const host = await waitHost(async () => {
        const cm = await readHostConfigMap('cm-volume');
        return cm.data?.key === 'edited' && cm.metadata?.labels?.tier === 'front' ? cm : undefined;
      }, 'edited host configmap');
      expect(host.data).toEqual({ key: 'edited', more: 'x' });
    });

    it('come back when the host copy of a used one is deleted', async () => {
      const before = await readHostConfigMap('cm-env');
      await vc.host.core.deleteNamespacedConfigMap({ name: hostName('cm-env'), namespace: vc.hostNamespace });
      const after = await waitHost(async () => {
        const cm = await readHostConfigMap('cm-env').catch(() => undefined);
        return cm && cm.metadata?.uid !== before.metadata?.uid ? cm : undefined;
      }, 'recreated host configmap');
      expect(after.data).toEqual({ key: 'value of cm-env' });
    });

    it('deleting the virtual configmap deletes the host copy', async () => {
      await kubectl('delete', 'configmap', 'cm-env', '-n', NS);
      await waitGone(() => readHostConfigMap('cm-env'), 'host configmap cm-env');
    });

    it('leave the host once the pod that used them is deleted', async () => {
      await deletePod('web');
      await waitGone(() => readHostConfigMap('cm-volume'), 'host configmap cm-volume');
      await waitGone(() => readHostConfigMap('cm-envfrom'), 'host configmap cm-envfrom');
      await waitGone(() => readHostConfigMap('kube-root-ca.crt'), 'host kube-root-ca.crt copy');
      // the virtual ones stay
      await vc.virtual.core.readNamespacedConfigMap({ name: 'cm-volume', namespace: NS });
    });

    it('come down unused with vcluster.loft.sh/force-sync=true, and leave when the mark goes', async () => {
      await kubectl('annotate', 'configmap', 'lonely', '-n', NS, 'vcluster.loft.sh/force-sync=true');
      const host = await waitHost(() => readHostConfigMap('lonely'), 'force-synced host configmap');
      expect(host.data).toEqual({ a: '1' });
      await kubectl('annotate', 'configmap', 'lonely', '-n', NS, 'vcluster.loft.sh/force-sync-');
      await waitGone(() => readHostConfigMap('lonely'), 'host configmap lonely');
    });
  });

  describe('secrets', () => {
    it('come down with their type once a pod uses them by volume, env, envFrom or imagePullSecrets', async () => {
      await createSecret({
        metadata: { name: 'tls' },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': b64('cert'), 'tls.key': b64('key') },
      });
      await createSecret({
        metadata: { name: 'db', labels: { app: 'shop' } },
        stringData: { password: 'p1' },
      });
      await createSecret({ metadata: { name: 'env-all' }, stringData: { A: 'a' } });
      await createSecret({
        metadata: { name: 'pull' },
        type: 'kubernetes.io/dockerconfigjson',
        stringData: { '.dockerconfigjson': '{"auths":{}}' },
      });
      await createSecret({ metadata: { name: 'unused' }, stringData: { x: 'y' } });
      await createPod(
        pod('api', {
          volumes: [{ name: 'certs', secret: { secretName: 'tls' } }],
          imagePullSecrets: [{ name: 'pull' }],
          containers: [
            {
              name: 'app',
              image: 'nginx:1.27',
              env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
              envFrom: [{ secretRef: { name: 'env-all' } }],
            },
          ],
        }),
      );

      const tls = await waitHost(() => readHostSecret('tls'), 'host secret tls');
      expect(tls.type).toBe('kubernetes.io/tls');
      expect(tls.data).toEqual({ 'tls.crt': b64('cert'), 'tls.key': b64('key') });
      const db = await waitHost(() => readHostSecret('db'), 'host secret db');
      expect(db.type).toBe('Opaque');
      expect(db.data).toEqual({ password: b64('p1') });
      expect(db.metadata?.labels).toMatchObject({
        app: 'shop',
        'vcluster.loft.sh/managed-by': vc.name,
        'vcluster.loft.sh/namespace': NS,
      });
      expect(db.metadata?.annotations).toMatchObject({
        'vcluster.loft.sh/object-name': 'db',
        'vcluster.loft.sh/object-namespace': NS,
        'vcluster.loft.sh/object-kind': '/v1, Kind=Secret',
      });
      await waitHost(() => readHostSecret('env-all'), 'host secret env-all');
      const pull = await waitHost(() => readHostSecret('pull'), 'host secret pull');
      expect(pull.type).toBe('kubernetes.io/dockerconfigjson');
      const hostPod = await waitHost(
        () => vc.host.core.readNamespacedPod({ name: hostName('api'), namespace: vc.hostNamespace }),
        'host pod api',
      );
      expect(hostPod.spec?.imagePullSecrets).toEqual([{ name: hostName('pull') }]);
      expect(await isGone(() => readHostSecret('unused'))).toBe(true);

      // The pod's service-account token travels in the host pod's annotations, not in a secret.
      expect(await isGone(() => readHostSecret('api-sa-token'))).toBe(true);
    });

    it('carry data edits down', async () => {
      await kubectl(
        'patch',
        'secret',
        'db',
        '-n',
        NS,
        '--type=merge',
        '-p',
        '{"stringData":{"password":"p2"}}',
      );
      await waitHost(async () => {
        const secret = await readHostSecret('db');
        return secret.data?.password === b64('p2') ? secret : undefined;
      }, 'edited host secret');
    });

    it('come back when the host copy of a used one is deleted', async () => {
      const before = await readHostSecret('tls');
      await vc.host.core.deleteNamespacedSecret({ name: hostName('tls'), namespace: vc.hostNamespace });
      const after = await waitHost(async () => {
        const secret = await readHostSecret('tls').catch(() => undefined);
        return secret && secret.metadata?.uid !== before.metadata?.uid ? secret : undefined;
      }, 'recreated host secret');
      expect(after.type).toBe('kubernetes.io/tls');
    });

    it('deleting the virtual secret deletes the host copy', async () => {
      await kubectl('delete', 'secret', 'env-all', '-n', NS);
      await waitGone(() => readHostSecret('env-all'), 'host secret env-all');
    });

    it('leave the host once the pod that used them is deleted', async () => {
      await deletePod('api');
      for (const name of ['tls', 'db', 'pull'])
        await waitGone(() => readHostSecret(name), `host secret ${name}`);
      await vc.virtual.core.readNamespacedSecret({ name: 'db', namespace: NS });
    });

    it('never overwrite or delete a host secret of the same name the syncer did not make, and say so', async () => {
      await vc.host.core.createNamespacedSecret({
        namespace: vc.hostNamespace,
        body: { metadata: { name: hostName('taken') }, stringData: { owner: 'host' } },
      });
      await createSecret({
        metadata: { name: 'taken', annotations: { 'vcluster.loft.sh/force-sync': 'true' } },
        stringData: { owner: 'virtual' },
      });
      const event = await waitUntil(
        async () => {
          const events: CoreV1Event[] = JSON.parse(
            await kubectl('get', 'events', '-n', NS, '-o', 'json'),
          ).items;
          return events.find(
            (e) =>
              e.involvedObject.kind === 'Secret' && e.involvedObject.name === 'taken' && e.type === 'Warning',
          );
        },
        { what: 'a warning event on the virtual secret', ...WAIT },
      );
      expect(event.reason).toBe('SyncError');
      expect(event.message).toContain('not managed');
      const untouched = await readHostSecret('taken');
      expect(untouched.data).toEqual({ owner: b64('host') });
      expect(untouched.metadata?.labels).toBeUndefined();

      // unused now: still not ours to delete
      await kubectl('annotate', 'secret', 'taken', '-n', NS, 'vcluster.loft.sh/force-sync-');
      await kubectl('delete', 'secret', 'taken', '-n', NS);
      await sleep(2000);
      expect((await readHostSecret('taken')).data).toEqual({ owner: b64('host') });
    });
  });

  it('a syncer restart keeps copies still in use and removes those no longer used', async () => {
    await createConfigMap({ metadata: { name: 'kept' }, data: { a: '1' } });
    await createConfigMap({ metadata: { name: 'dropped' }, data: { b: '2' } });
    await createPod(pod('stays', { volumes: [{ name: 'c', configMap: { name: 'kept' } }] }));
    await createPod(pod('goes', { volumes: [{ name: 'c', configMap: { name: 'dropped' } }] }));
    const kept = await waitHost(() => readHostConfigMap('kept'), 'host configmap kept');
    await waitHost(() => readHostConfigMap('dropped'), 'host configmap dropped');

    await vc.stopSyncer();
    await kubectl('delete', 'pod', 'goes', '-n', NS, '--grace-period=0', '--force');
    await vc.restartSyncer();

    await waitGone(() => readHostConfigMap('dropped'), 'host configmap dropped');
    // the one still in use was never deleted and made again on the way
    expect((await readHostConfigMap('kept')).metadata?.uid).toBe(kept.metadata?.uid);
  });
});
