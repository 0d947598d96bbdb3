import { join } from 'node:path';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isGone, type KubeClients, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import {
  annotations,
  labels,
  VirtualClusterError,
  type VirtualClusterProvider,
} from '../../preview/provider.ts';
import { kubernetesProvider, managedByLabel, pauseAnnotations } from '../../preview/providers/kubernetes.ts';
import { detectServiceCIDR } from '../../preview/service-cidr.ts';

const suffix = Date.now().toString(36).slice(-6);
const name = `kp-${suffix}`;
const namespace = `vcluster-${name}`;
const pvName = `kp-data-${suffix}`;
const slow = { timeoutMs: 90_000, intervalMs: 500 };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Plays the syncer's part: kwok pods never run their containers, so nobody else writes vc-<name>. */
async function writeKubeconfigSecret(host: KubeClients, cluster: string, ns: string) {
  await host.core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: `vc-${cluster}` },
      stringData: {
        config: `apiVersion: v1\nkind: Config\nclusters: [{name: ${cluster}, cluster: {server: 'https://localhost:8443'}}]\n`,
      },
    },
  });
}

describe('kubernetes provider against the host cluster', () => {
  let host: KubeClients;
  let rbac: RbacAuthorizationV1Api;
  let provider: VirtualClusterProvider;
  const cleanup: string[] = [];

  beforeAll(async () => {
    host = kubeClients(inject('hostKubeconfig'));
    rbac = host.config.makeApiClient(RbacAuthorizationV1Api);
    provider = kubernetesProvider({
      hostKubeconfig: inject('hostKubeconfig'),
      helmBinary: join(inject('binDir'), 'helm'),
      readyTimeoutMs: 90_000,
      deleteTimeoutMs: 90_000,
      values: { syncer: { logLevel: 'debug' } },
    });
    // The test host has no storage provisioner: a volume bound ahead of time to the StatefulSet's
    // claim stands in for one.
    await host.core.createPersistentVolume({
      body: {
        metadata: { name: pvName },
        spec: {
          capacity: { storage: '5Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path: `/tmp/${pvName}` },
          claimRef: { namespace, name: `data-${name}-0` },
        },
      },
    });
  });

  afterAll(async () => {
    await provider.delete({ name }).catch(() => {});
    for (const ns of cleanup) await host.core.deleteNamespace({ name: ns }).catch(() => {});
    await host.core.deletePersistentVolume({ name: pvName }).catch(() => {});
  });

  it('detects the host Service CIDR with a server-side dry run', async () => {
    expect(await detectServiceCIDR(host.core, 'default')).toBe('10.96.0.0/16');
    // Nothing was created.
    expect(
      await isGone(() =>
        host.core.readNamespacedService({
          name: 'vcluster-preview-service-cidr-probe',
          namespace: 'default',
        }),
      ),
    ).toBe(true);
  });

  it('refuses a namespace that something else owns', async () => {
    const taken = `kp-taken-${suffix}`;
    cleanup.push(taken);
    await host.core.createNamespace({ body: { metadata: { name: taken, labels: { team: 'someone' } } } });
    const error = await rejection(provider.create({ name: 'intruder', namespace: taken }));
    expect(error).toBeInstanceOf(VirtualClusterError);
    expect(error.message).toContain(`namespace ${taken} exists and is not managed by vcluster-preview`);
    expect(error.message).toContain('-n');
    const ns = await host.core.readNamespace({ name: taken });
    expect(ns.metadata?.labels?.[labels.vcluster]).toBe(undefined);
    await expect(provider.delete({ name: 'intruder', namespace: taken })).rejects.toThrow(/not managed/);
    expect(await isGone(() => host.core.readNamespace({ name: taken }))).toBe(false);
  });

  it('creates: installs the chart and is ready only once the syncer wrote its kubeconfig Secret', async () => {
    const messages: string[] = [];
    let createdAt = 0;
    const creating = provider
      .create({
        name,
        labels: { [labels.repo]: 'octo-org.hello', [labels.pullRequest]: '12' },
        annotations: { [annotations.commit]: 'abc123' },
        allowedHostSuffix: 'pr-12.preview.example.com',
        isolation: { podSecurityStandard: 'restricted' },
        report: (message) => messages.push(message),
      })
      .then((info) => {
        createdAt = Date.now();
        return info;
      });
    // Wait for the control plane pod to be Ready, then a little more: create must still be waiting.
    await waitUntil(
      async () => {
        const pods = await host.core.listNamespacedPod({
          namespace,
          labelSelector: `app=vcluster,release=${name}`,
        });
        return pods.items.some((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
      },
      { what: 'the control plane pod to be Ready', ...slow },
    );
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(createdAt).toBe(0);
    const info0 = await provider.get({ name });
    expect(info0?.state).toBe('creating');
    const written = Date.now();
    await writeKubeconfigSecret(host, name, namespace);
    const info = await creating;
    expect(createdAt).toBeGreaterThanOrEqual(written);
    expect(info).toMatchObject({ name, namespace, provider: 'kubernetes', state: 'running' });
    expect(info.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(messages.join('\n')).toContain('10.96.0.0/16');

    const ns = await host.core.readNamespace({ name: namespace });
    expect(ns.metadata?.labels).toMatchObject({
      [labels.vcluster]: name,
      [labels.provider]: 'kubernetes',
      [labels.repo]: 'octo-org.hello',
      [labels.pullRequest]: '12',
    });
    expect(ns.metadata?.annotations).toMatchObject({
      [annotations.state]: 'running',
      [annotations.createdNamespace]: 'true',
      [annotations.commit]: 'abc123',
    });

    const sts = await host.apps.readNamespacedStatefulSet({ name, namespace });
    expect(sts.spec?.replicas).toBe(1);
    const containers = sts.spec?.template.spec?.containers ?? [];
    const apiserver = containers.find((c) => c.name === 'kube-apiserver');
    expect(apiserver?.command).toContain('--service-cluster-ip-range=10.96.0.0/16');
    const syncer = containers.find((c) => c.name === 'syncer');
    expect(syncer?.command).toEqual(
      expect.arrayContaining([
        '--allowed-host-suffix',
        'pr-12.preview.example.com',
        '--enforce-pod-security=restricted',
      ]),
    );
    expect(syncer?.env).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
    expect((await host.core.readNamespacedService({ name, namespace })).spec?.ports?.[0]?.port).toBe(443);
    await host.core.readNamespacedService({ name: `${name}-headless`, namespace });
    await host.core.readNamespacedServiceAccount({ name: `vc-${name}`, namespace });
    const quota = await host.core.readNamespacedResourceQuota({ name: `vc-${name}`, namespace });
    expect(quota.spec?.hard?.['count/pods']).toBe('20');
    await host.core.readNamespacedLimitRange({ name: `vc-${name}`, namespace });
    const policies = await host.networking.listNamespacedNetworkPolicy({ namespace });
    expect(policies.items.map((p) => p.metadata?.name).sort()).toEqual([`vc-cp-${name}`, `vc-work-${name}`]);
    await rbac.readClusterRole({ name: `vc-${name}-v-${namespace}` });
    const claim = await host.core.readNamespacedPersistentVolumeClaim({ name: `data-${name}-0`, namespace });
    expect(claim.spec?.volumeName).toBe(pvName);
    await host.core.readNamespacedSecret({ name: `sh.helm.release.v1.${name}.v1`, namespace });

    expect(await provider.kubeconfig({ name })).toContain('https://localhost:8443');
  });

  it('creates twice: the second is an upgrade of the same cluster', async () => {
    const first = await provider.get({ name });
    const again = await provider.create({ name, allowedHostSuffix: 'pr-12.preview.example.com' });
    expect(again).toMatchObject({ name, namespace, state: 'running', createdAt: first?.createdAt });
    await host.core.readNamespacedSecret({ name: `sh.helm.release.v1.${name}.v2`, namespace });
    const ns = await host.core.readNamespace({ name: namespace });
    // What the first create put on the namespace stays.
    expect(ns.metadata?.labels?.[labels.pullRequest]).toBe('12');
  });

  it('lists and gets it', async () => {
    const listed = await provider.list();
    expect(listed.find((info) => info.name === name)).toMatchObject({
      namespace,
      provider: 'kubernetes',
      state: 'running',
    });
    expect(listed.every((info) => info.provider === 'kubernetes')).toBe(true);
    expect(await provider.get({ name })).toMatchObject({ name, namespace });
    expect(await provider.get({ name: 'no-such-cluster' })).toBe(undefined);
    // The name must match the namespace's label.
    expect(await provider.get({ name: 'other', namespace })).toBe(undefined);
  });

  it('pauses: scales the control plane to 0 and deletes the synced pods, keeping services and the PVC', async () => {
    // A host pod as the syncer would have made it.
    await host.core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: `web-x-default-x-${name}`,
          labels: { [managedByLabel]: name, 'vcluster.loft.sh/namespace': 'default' },
        },
        spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] },
      },
    });
    const info = await provider.pause({ name });
    expect(info.state).toBe('paused');
    const sts = await host.apps.readNamespacedStatefulSet({ name, namespace });
    expect(sts.spec?.replicas).toBe(0);
    expect(sts.metadata?.annotations).toMatchObject({
      [pauseAnnotations.paused]: 'true',
      [pauseAnnotations.replicas]: '1',
    });
    await waitUntil(
      async () => {
        const pods = await host.core.listNamespacedPod({ namespace });
        return pods.items.length === 0 || undefined;
      },
      { what: 'every pod of the namespace to be gone', ...slow },
    );
    await host.core.readNamespacedService({ name, namespace });
    await host.core.readNamespacedPersistentVolumeClaim({ name: `data-${name}-0`, namespace });
    // Pausing twice keeps the remembered replica count.
    await provider.pause({ name });
    const again = await host.apps.readNamespacedStatefulSet({ name, namespace });
    expect(again.metadata?.annotations?.[pauseAnnotations.replicas]).toBe('1');
    // A create of a paused cluster returns it as it is.
    expect((await provider.create({ name })).state).toBe('paused');
    expect((await host.apps.readNamespacedStatefulSet({ name, namespace })).spec?.replicas).toBe(0);
  });

  it('resumes: restores the replicas, drops the pause annotations and waits until ready', async () => {
    const info = await provider.resume({ name });
    expect(info.state).toBe('running');
    const sts = await host.apps.readNamespacedStatefulSet({ name, namespace });
    expect(sts.spec?.replicas).toBe(1);
    expect(sts.metadata?.annotations?.[pauseAnnotations.paused]).toBe(undefined);
    expect(sts.metadata?.annotations?.[pauseAnnotations.replicas]).toBe(undefined);
    const pods = await host.core.listNamespacedPod({
      namespace,
      labelSelector: `app=vcluster,release=${name}`,
    });
    expect(
      pods.items.some((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    ).toBe(true);
  });

  it('deletes: release, PVC, cluster-wide RBAC and namespace; a second delete succeeds', async () => {
    await provider.delete({ name });
    expect(await isGone(() => host.core.readNamespace({ name: namespace }))).toBe(true);
    expect(await isGone(() => rbac.readClusterRole({ name: `vc-${name}-v-${namespace}` }))).toBe(true);
    expect(await isGone(() => rbac.readClusterRoleBinding({ name: `vc-${name}-v-${namespace}` }))).toBe(true);
    // The claim went with the namespace; its volume (Retain) is released.
    await waitUntil(
      async () => (await host.core.readPersistentVolume({ name: pvName })).status?.phase === 'Released',
      { what: `volume ${pvName} to be released`, ...slow },
    );
    expect(await provider.get({ name })).toBe(undefined);
    expect((await provider.list()).some((info) => info.name === name)).toBe(false);
    await provider.delete({ name });
  });

  it('deletes what an interrupted create left: a namespace alone, or nothing at all', async () => {
    const half = `kp-half-${suffix}`;
    await host.core.createNamespace({
      body: {
        metadata: {
          name: `vcluster-${half}`,
          labels: { [labels.vcluster]: half, [labels.provider]: 'kubernetes' },
          annotations: { [annotations.createdNamespace]: 'true', [annotations.state]: 'creating' },
        },
      },
    });
    expect(await provider.get({ name: half })).toMatchObject({ state: 'creating' });
    await provider.delete({ name: half });
    expect(await isGone(() => host.core.readNamespace({ name: `vcluster-${half}` }))).toBe(true);
    await provider.delete({ name: `kp-never-${suffix}` });
  });

  it('pause, resume and kubeconfig of a missing cluster fail with a clear error', async () => {
    await expect(provider.pause({ name: 'no-such-cluster' })).rejects.toThrow(
      /virtual cluster no-such-cluster not found/,
    );
    await expect(provider.resume({ name: 'no-such-cluster' })).rejects.toThrow(VirtualClusterError);
    await expect(provider.kubeconfig({ name: 'no-such-cluster' })).rejects.toThrow(VirtualClusterError);
  });
});

describe('kubernetes provider: readiness timeout', () => {
  const timeoutName = `kt-${suffix}`;
  const timeoutNamespace = `vcluster-${timeoutName}`;
  let host: KubeClients;
  let provider: VirtualClusterProvider;

  beforeAll(() => {
    host = kubeClients(inject('hostKubeconfig'));
    provider = kubernetesProvider({
      hostKubeconfig: inject('hostKubeconfig'),
      helmBinary: join(inject('binDir'), 'helm'),
      serviceCIDR: '10.96.0.0/16',
      readyTimeoutMs: 20_000,
      // No PVC to bind: a Deployment with etcd on an emptyDir.
      values: { persistence: { enabled: false } },
    });
  });

  afterAll(async () => {
    await provider.delete({ name: timeoutName }).catch(() => {});
  });

  it('fails with what is missing when the syncer never writes its Secret, then deletes cleanly', async () => {
    const error = await rejection(provider.create({ name: timeoutName }));
    expect(error).toBeInstanceOf(VirtualClusterError);
    expect(error.message).toContain(
      `virtual cluster ${timeoutName} in namespace ${timeoutNamespace} is not ready after 20s`,
    );
    expect(error.message).toContain(`its syncer has not written the kubeconfig Secret vc-${timeoutName}`);
    expect(error.message).toContain('events:');
    expect(error.message).toContain(`kubectl -n ${timeoutNamespace} logs`);
    expect((await provider.get({ name: timeoutName }))?.state).toBe('failed');
    await host.apps.readNamespacedDeployment({ name: timeoutName, namespace: timeoutNamespace });

    await expect(provider.kubeconfig({ name: timeoutName })).rejects.toThrow(
      `virtual cluster ${timeoutName} is not ready: its syncer has not written vc-${timeoutName} yet`,
    );

    // Pause and resume work on the Deployment too; resume times out the same way.
    expect((await provider.pause({ name: timeoutName })).state).toBe('paused');
    expect(
      (await host.apps.readNamespacedDeployment({ name: timeoutName, namespace: timeoutNamespace })).spec
        ?.replicas,
    ).toBe(0);

    // A release without its Secret is deleted like any other.
    await provider.delete({ name: timeoutName });
    expect(await isGone(() => host.core.readNamespace({ name: timeoutNamespace }))).toBe(true);
  });
});
