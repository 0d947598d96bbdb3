import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { isGone, type KubeClients, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { isPodReady } from '../../preview/diagnose.ts';
import {
  annotations,
  labels,
  VirtualClusterError,
  type VirtualClusterProvider,
} from '../../preview/provider.ts';
import { managedByLabel, pauseAnnotations } from '../../preview/providers/kubernetes/names.ts';
import { kubernetesProvider } from '../../preview/providers/kubernetes/provider.ts';
import { detectServiceCIDR } from '../../preview/service-cidr.ts';
import { kubeconfigFile, runBinary } from '../support/kubectl.ts';
import { runningContainersOf } from '../support/real-node.ts';

const run = promisify(execFile);

/**
 * The `kubernetes` provider on the shared real-node host: `charts/vcluster` installed with helm, its
 * control plane (etcd, kube-apiserver, kube-controller-manager) and syncer running as real
 * containers from the local registry's images, and the virtual cluster used as a user would use it.
 */
const suffix = Date.now().toString(36).slice(-6);
const name = `kp-${suffix}`;
const namespace = `vcluster-${name}`;
const slow = { timeoutMs: 120_000, intervalMs: 500 };
const NODE = 'real-node';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const serverOf = (kubeconfig: string) =>
  (parse(kubeconfig) as { clusters: { cluster: { server: string } }[] }).clusters[0]!.cluster.server;

/** The node's containers (sandboxes included) of one host namespace, as containerd lists them. */
async function containersOf(ns: string): Promise<string[]> {
  const { stdout } = await run('ctr', [
    '--address',
    inject('realNode').containerdSocket,
    '--namespace',
    'k8s.io',
    'containers',
    'list',
    '--quiet',
    `labels."io.kubernetes.pod.namespace"==${ns}`,
  ]);
  return stdout.split('\n').filter(Boolean);
}

describe('kubernetes provider on the real-node host', () => {
  let host: KubeClients;
  let rbac: RbacAuthorizationV1Api;
  let provider: VirtualClusterProvider;
  let virtualKubeconfig: string;
  let volumeName: string;
  const cleanup: string[] = [];
  const kubectl = (...args: string[]) => runBinary('kubectl', args, { kubeconfig: virtualKubeconfig });

  const controlPlanePods = async () =>
    (await host.core.listNamespacedPod({ namespace, labelSelector: `app=vcluster,release=${name}` })).items;
  /** The host pods the syncer made for the virtual Deployment `web` in namespace default. */
  const hostWebPods = async () =>
    (
      await host.core.listNamespacedPod({ namespace, labelSelector: `${managedByLabel}=${name}` })
    ).items.filter(
      (pod) => pod.metadata?.name?.startsWith('web-') && pod.metadata.name.endsWith(`-x-default-x-${name}`),
    );
  const runningOnNode = (pod: V1Pod) =>
    pod.spec?.nodeName === NODE && pod.status?.phase === 'Running' && isPodReady(pod);

  beforeAll(async () => {
    host = kubeClients(inject('realHostKubeconfig'));
    rbac = host.config.makeApiClient(RbacAuthorizationV1Api);
    provider = kubernetesProvider({
      hostKubeconfig: inject('realHostKubeconfig'),
      helmBinary: join(inject('binDir'), 'helm'),
      readyTimeoutMs: 180_000,
      deleteTimeoutMs: 120_000,
      values: { syncer: { logLevel: 'debug' } },
    });
  });

  afterAll(async () => {
    await provider.delete({ name }).catch(() => {});
    for (const ns of cleanup) await host.core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it('detects the host Service CIDR with a server-side dry run', async () => {
    expect(await detectServiceCIDR(host.core, 'default')).toBe(inject('realNode').serviceCIDR);
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

  it('creates: the control plane and syncer run on the real node, and the syncer writes vc-<name>', async () => {
    const messages: string[] = [];
    const info = await provider.create({
      name,
      labels: { [labels.repo]: 'octo-org.hello', [labels.pullRequest]: '12' },
      annotations: { [annotations.commit]: 'abc123' },
      allowedHostSuffix: 'pr-12.preview.example.com',
      isolation: { podSecurityStandard: 'baseline' },
      report: (message) => messages.push(message),
    });
    expect(info).toMatchObject({ name, namespace, provider: 'kubernetes', state: 'running' });
    expect(info.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(messages.join('\n')).toContain(inject('realNode').serviceCIDR);

    // One control plane pod, Running and Ready on the real node, every container from its upstream image.
    const [pod, ...others] = await controlPlanePods();
    expect(others).toEqual([]);
    expect(pod?.spec?.nodeName).toBe(NODE);
    expect(pod?.status?.phase).toBe('Running');
    expect(isPodReady(pod!)).toBe(true);
    const statuses = new Map((pod?.status?.containerStatuses ?? []).map((s) => [s.name, s]));
    expect([...statuses.keys()].sort()).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'syncer',
    ]);
    for (const status of statuses.values()) {
      expect(status.ready, status.name).toBe(true);
      expect(status.state?.running, status.name).toBeDefined();
      expect(status.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    }
    expect(statuses.get('kube-apiserver')?.image).toBe('registry.k8s.io/kube-apiserver:v1.36.3');
    expect(statuses.get('kube-controller-manager')?.image).toBe(
      'registry.k8s.io/kube-controller-manager:v1.36.3',
    );
    expect(statuses.get('etcd')?.image).toBe('registry.k8s.io/etcd:3.6.16-0');
    expect(statuses.get('syncer')?.image).toBe('ghcr.io/vcluster-preview/vcluster-preview:0.1.0');
    const pki = pod?.status?.initContainerStatuses?.find((s) => s.name === 'pki');
    expect(pki?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });

    // The syncer (not this test) wrote the users' kubeconfig, naming the chart's Service.
    const secret = await host.core.readNamespacedSecret({ name: `vc-${name}`, namespace });
    const inCluster = Buffer.from(secret.data?.config ?? '', 'base64').toString('utf8');
    expect(serverOf(inCluster)).toBe(`https://${name}.${namespace}.svc:443`);
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(
      expect.arrayContaining(['certificate-authority', 'client-certificate', 'client-key', 'config']),
    );

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
    expect(apiserver?.command).toContain(`--service-cluster-ip-range=${inject('realNode').serviceCIDR}`);
    const syncer = containers.find((c) => c.name === 'syncer');
    expect(syncer?.command).toEqual(
      expect.arrayContaining([
        '--allowed-host-suffix',
        'pr-12.preview.example.com',
        '--enforce-pod-security=baseline',
        '--kubeconfig-server',
        `https://${name}.${namespace}.svc:443`,
      ]),
    );
    expect(syncer?.env).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
    const service = await host.core.readNamespacedService({ name, namespace });
    expect(service.spec?.ports?.[0]?.port).toBe(443);
    await host.core.readNamespacedService({ name: `${name}-headless`, namespace });
    await host.core.readNamespacedServiceAccount({ name: `vc-${name}`, namespace });
    const quota = await host.core.readNamespacedResourceQuota({ name: `vc-${name}`, namespace });
    expect(quota.spec?.hard?.['count/pods']).toBe('20');
    await host.core.readNamespacedLimitRange({ name: `vc-${name}`, namespace });
    const policies = await host.networking.listNamespacedNetworkPolicy({ namespace });
    expect(policies.items.map((p) => p.metadata?.name).sort()).toEqual([`vc-cp-${name}`, `vc-work-${name}`]);
    await rbac.readClusterRole({ name: `vc-${name}-v-${namespace}` });
    // etcd's claim got a volume of the host's default StorageClass.
    const claim = await host.core.readNamespacedPersistentVolumeClaim({ name: `data-${name}-0`, namespace });
    expect(claim.spec?.storageClassName).toBe('local-path');
    expect(claim.status?.phase).toBe('Bound');
    volumeName = claim.spec!.volumeName!;
    await host.core.readNamespacedSecret({ name: `sh.helm.release.v1.${name}.v1`, namespace });

    // From this machine the kubeconfig it hands out goes to the Service's ClusterIP (routed here).
    const kubeconfig = await provider.kubeconfig({ name });
    expect(serverOf(kubeconfig)).toBe(`https://${service.spec?.clusterIP}:443`);
    virtualKubeconfig = await kubeconfigFile(kubeconfig);
    // A worker in a pod of the host is given the Service's name; `secret` hands out vc-<name> as it is.
    const elsewhere = (apiAccess: 'service' | 'secret') =>
      kubernetesProvider({
        hostKubeconfig: inject('realHostKubeconfig'),
        helmBinary: join(inject('binDir'), 'helm'),
        apiAccess,
      }).kubeconfig({ name });
    expect(serverOf(await elsewhere('service'))).toBe(`https://${name}.${namespace}.svc:443`);
    expect(await elsewhere('secret')).toBe(inCluster);
    // Longer than readyTimeoutMs: a slow start fails with the provider's diagnosis, not a test timeout.
  }, 240_000);

  it('serves the virtual cluster through that kubeconfig: namespaces, CoreDNS and a Deployment that becomes Ready', async () => {
    const namespaces = (await kubectl('get', 'namespaces', '-o', 'name')).split('\n');
    expect(namespaces).toEqual(expect.arrayContaining(['namespace/default', 'namespace/kube-system']));
    // The virtual cluster's CoreDNS (applied by the syncer) runs as a real pod too.
    await kubectl('-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=120s');

    await kubectl('create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80');
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s');
    const virtualPods = JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')) as {
      items: V1Pod[];
    };
    expect(virtualPods.items).toHaveLength(2);
    for (const pod of virtualPods.items) expect(isPodReady(pod)).toBe(true);

    const hostPods = await hostWebPods();
    expect(hostPods).toHaveLength(2);
    for (const pod of hostPods) {
      expect(runningOnNode(pod), pod.metadata?.name).toBe(true);
      // The page answers from this machine at the pod's address.
      const page = await fetch(`http://${pod.status!.podIP}/`, { signal: AbortSignal.timeout(5000) });
      expect(await page.text()).toContain('Welcome to nginx!');
    }
    // Through the virtual cluster, as with vcluster: the syncer's kubelet API reaches the host pod.
    const name = virtualPods.items[0]!.metadata!.name!;
    await waitUntil(async () => (await kubectl('logs', name)).includes('GET / HTTP/1.1') || undefined, {
      what: `kubectl logs ${name} to show the request`,
      timeoutMs: 15_000,
    });
    expect(await kubectl('exec', name, '--', '/usr/sbin/nginx', '-T')).toContain('listen 80;');
  });

  it('creates twice: the second is an upgrade of the same cluster, which keeps running', async () => {
    const [before] = await controlPlanePods();
    const first = await provider.get({ name });
    const again = await provider.create({ name, allowedHostSuffix: 'pr-12.preview.example.com' });
    expect(again).toMatchObject({ name, namespace, state: 'running', createdAt: first?.createdAt });
    await host.core.readNamespacedSecret({ name: `sh.helm.release.v1.${name}.v2`, namespace });
    const ns = await host.core.readNamespace({ name: namespace });
    // What the first create put on the namespace stays.
    expect(ns.metadata?.labels?.[labels.pullRequest]).toBe('12');
    // Same values: the control plane pod was not replaced.
    const [after] = await controlPlanePods();
    expect(after?.metadata?.uid).toBe(before?.metadata?.uid);
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

  it('pauses: the control plane and the workloads stop; services and the data volume stay', async () => {
    expect((await hostWebPods()).length).toBe(2);
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
  });

  it('resumes: the same virtual cluster comes back, and its Deployment runs again', async () => {
    const resumedAt = Date.now();
    const info = await provider.resume({ name });
    expect(info.state).toBe('running');
    const sts = await host.apps.readNamespacedStatefulSet({ name, namespace });
    expect(sts.spec?.replicas).toBe(1);
    expect(sts.metadata?.annotations?.[pauseAnnotations.paused]).toBe(undefined);
    expect(sts.metadata?.annotations?.[pauseAnnotations.replicas]).toBe(undefined);
    const [pod] = await controlPlanePods();
    expect(pod?.spec?.nodeName).toBe(NODE);
    expect(isPodReady(pod!)).toBe(true);

    // etcd kept its data on the volume: the Deployment is still there, and new pods run it.
    expect(await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}')).toBe('2');
    const fresh = await waitUntil(
      async () => {
        const pods = (await hostWebPods()).filter(
          (p) => new Date(p.metadata?.creationTimestamp ?? 0).getTime() >= resumedAt - 1000,
        );
        return pods.length === 2 && pods.every(runningOnNode) ? pods : undefined;
      },
      { what: 'two new host pods of web, Running and Ready on the real node', ...slow },
    );
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s');
    for (const hostPod of fresh) {
      const page = await fetch(`http://${hostPod.status!.podIP}/`, { signal: AbortSignal.timeout(5000) });
      expect(await page.text()).toContain('Welcome to nginx!');
    }
  }, 240_000);

  it('a create of a paused cluster (a push to a sleeping preview) wakes it and upgrades it', async () => {
    await provider.pause({ name });
    const woken = await provider.create({ name, allowedHostSuffix: 'pr-12.preview.example.com' });
    expect(woken.state).toBe('running');
    const sts = await host.apps.readNamespacedStatefulSet({ name, namespace });
    expect(sts.spec?.replicas).toBe(1);
    expect(sts.metadata?.annotations?.[pauseAnnotations.paused]).toBe(undefined);
    const [pod] = await controlPlanePods();
    expect(isPodReady(pod!)).toBe(true);
    expect(await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}')).toBe('2');
  }, 240_000);

  it('deletes: release, PVC, cluster-wide RBAC, namespace and containers; a second delete succeeds', async () => {
    expect((await containersOf(namespace)).length).toBeGreaterThan(0);
    await provider.delete({ name });
    expect(await isGone(() => host.core.readNamespace({ name: namespace }))).toBe(true);
    expect(await isGone(() => rbac.readClusterRole({ name: `vc-${name}-v-${namespace}` }))).toBe(true);
    expect(await isGone(() => rbac.readClusterRoleBinding({ name: `vc-${name}-v-${namespace}` }))).toBe(true);
    // The claim went with the namespace, and its volume (reclaim policy Delete) with the claim.
    await waitUntil(async () => isGone(() => host.core.readPersistentVolume({ name: volumeName })), {
      what: `volume ${volumeName} to be deleted`,
      ...slow,
    });
    // Nothing of it runs on the node any more.
    await waitUntil(async () => runningContainersOf(inject('realNode'), namespace).length === 0, {
      what: `the node to stop every container of ${namespace}`,
      ...slow,
    });
    expect(await provider.get({ name })).toBe(undefined);
    expect((await provider.list()).some((info) => info.name === name)).toBe(false);
    await provider.delete({ name });
  }, 300_000);

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
    host = kubeClients(inject('realHostKubeconfig'));
    provider = kubernetesProvider({
      hostKubeconfig: inject('realHostKubeconfig'),
      helmBinary: join(inject('binDir'), 'helm'),
      serviceCIDR: inject('realNode').serviceCIDR,
      readyTimeoutMs: 20_000,
      values: {
        // No PVC to bind: a Deployment with etcd on an emptyDir.
        persistence: { enabled: false },
        // A tag nobody has: the node cannot pull the syncer's image, so nothing starts.
        syncer: { image: { tag: 'no-such-tag' } },
      },
    });
  });

  afterAll(async () => {
    await provider.delete({ name: timeoutName }).catch(() => {});
  });

  it('fails with what is missing and why when the control plane cannot start, then deletes cleanly', async () => {
    const error = await rejection(provider.create({ name: timeoutName }));
    expect(error).toBeInstanceOf(VirtualClusterError);
    expect(error.message).toContain(
      `virtual cluster ${timeoutName} in namespace ${timeoutNamespace} is not ready after 20s`,
    );
    expect(error.message).toContain('its control plane pod is not Ready');
    expect(error.message).toContain(`its syncer has not written the kubeconfig Secret vc-${timeoutName}`);
    // The pod's own words: the init container cannot get its image.
    expect(error.message).toMatch(/container pki waiting: (ErrImagePull|ImagePullBackOff)/);
    expect(error.message).toContain('ghcr.io/vcluster-preview/vcluster-preview:no-such-tag');
    expect(error.message).toContain('events:');
    expect(error.message).toContain(`kubectl -n ${timeoutNamespace} logs`);
    expect((await provider.get({ name: timeoutName }))?.state).toBe('failed');
    await host.apps.readNamespacedDeployment({ name: timeoutName, namespace: timeoutNamespace });

    await expect(provider.kubeconfig({ name: timeoutName })).rejects.toThrow(
      `virtual cluster ${timeoutName} is not ready: its syncer has not written vc-${timeoutName} yet`,
    );

    // Pause and resume work on the Deployment too.
    const replicas = async () =>
      (await host.apps.readNamespacedDeployment({ name: timeoutName, namespace: timeoutNamespace })).spec
        ?.replicas;
    expect((await provider.pause({ name: timeoutName })).state).toBe('paused');
    expect(await replicas()).toBe(0);
    // Resume scales it up again and waits like create, so it times out the same way: the image is still missing.
    const resumed = await rejection(provider.resume({ name: timeoutName }));
    expect(resumed).toBeInstanceOf(VirtualClusterError);
    expect(resumed.message).toContain(
      `virtual cluster ${timeoutName} in namespace ${timeoutNamespace} is not ready after 20s`,
    );
    expect(resumed.message).toMatch(/container pki waiting: (ErrImagePull|ImagePullBackOff)/);
    expect(await replicas()).toBe(1);

    // A release without its Secret is deleted like any other.
    await provider.delete({ name: timeoutName });
    expect(await isGone(() => host.core.readNamespace({ name: timeoutNamespace }))).toBe(true);
  });
});
