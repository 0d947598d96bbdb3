import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGone } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { runBinary } from '../support/kubectl.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

const WAIT = { timeoutMs: 60_000 };

describe('the syncer enforces the baseline Pod Security Standard and the volume fence', () => {
  let vc: VirtualClusterUnderTest;
  const kubectl = (...args: string[]) => runBinary('kubectl', args, { kubeconfig: vc.kubeconfigPath });
  const hostPodName = (name: string) => `${name}-x-default-x-${vc.name}`;
  const hostPodExists = async (name: string) =>
    !(await isGone(() =>
      vc.host.core.readNamespacedPod({ name: hostPodName(name), namespace: vc.hostNamespace }),
    ));
  const createPod = (name: string, spec: Partial<V1Pod['spec']> = {}) =>
    vc.virtual.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name },
        spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec },
      },
    });

  const eventsOf = (reason: string, pod: string) =>
    waitUntil(
      async () => {
        const events: CoreV1Event[] = JSON.parse(
          await kubectl(
            'get',
            'events',
            '-n',
            'default',
            '--field-selector',
            `reason=${reason}`,
            '-o',
            'json',
          ),
        ).items;
        const byPod = new Map(events.map((event) => [event.involvedObject.name, event]));
        return byPod.has(pod) ? byPod : undefined;
      },
      { what: `a ${reason} event for pod ${pod}`, ...WAIT },
    );

  beforeAll(async () => {
    vc = await startVirtualCluster({
      podSecurityStandard: 'baseline',
      volumeFence: { allowedCsiDrivers: ['csi.example.com'] },
    });
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('keeps a privileged pod off the host with a PodSecurityViolation event, a hostPath pod with the volume fence’s VolumeTypeRefused (at every level), and syncs a plain pod', async () => {
    await createPod('privileged', {
      containers: [{ name: 'app', image: 'nginx', securityContext: { privileged: true } }],
    });
    await createPod('hostpath', {
      containers: [{ name: 'app', image: 'nginx', volumeMounts: [{ name: 'root', mountPath: '/host' }] }],
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
    });
    await createPod('plain');
    const csi = (driver: string) => ({
      containers: [{ name: 'app', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', csi: { driver } }],
    });
    await createPod('csi-allowed', csi('csi.example.com'));
    await createPod('csi-other', csi('other.example.com'));

    await waitUntil(() => hostPodExists('plain'), { what: 'the plain pod on the host', ...WAIT });
    // The operator's CSI driver is allowed; any other is not.
    await waitUntil(() => hostPodExists('csi-allowed'), { what: 'the allowed CSI pod on the host', ...WAIT });
    const csiRefusals = await eventsOf('VolumeTypeRefused', 'csi-other');
    expect(csiRefusals.get('csi-other')?.message).toBe(
      'not synced to the host: volume "data" uses CSI driver "other.example.com", which the operator has not allowed (allowed: csi.example.com); use a persistentVolumeClaim instead',
    );
    expect(await hostPodExists('csi-other')).toBe(false);

    const violations = await eventsOf('PodSecurityViolation', 'privileged');
    const refusals = await eventsOf('VolumeTypeRefused', 'hostpath');
    const privileged = violations.get('privileged');
    expect(privileged?.type).toBe('Warning');
    expect(privileged?.involvedObject.kind).toBe('Pod');
    expect(privileged?.message).toBe(
      'violates PodSecurity "baseline:latest": privileged (container "app" must not set securityContext.privileged=true)',
    );
    expect(refusals.get('hostpath')?.message).toBe(
      'not synced to the host: volume "root" has type hostPath, which previews may not use; use one of configMap, secret, emptyDir, projected, downwardAPI, persistentVolumeClaim, ephemeral',
    );
    expect(violations.has('plain')).toBe(false);
    expect(refusals.has('plain')).toBe(false);

    // What a user sees with kubectl.
    const table = await kubectl('get', 'events', '-n', 'default');
    expect(table).toContain('PodSecurityViolation');
    expect(table).toContain('VolumeTypeRefused');
    expect(table).toMatch(/pod\/privileged/);

    // Never on the host, still Pending and unbound in the virtual cluster.
    expect(await hostPodExists('privileged')).toBe(false);
    expect(await hostPodExists('hostpath')).toBe(false);
    for (const name of ['privileged', 'hostpath']) {
      const pod = await vc.virtual.core.readNamespacedPod({ name, namespace: 'default' });
      expect(pod.status?.phase).toBe('Pending');
      expect(pod.spec?.nodeName).toBeUndefined();
    }
  });

  it('syncs a pod once it is fixed (recreated without the violation)', async () => {
    await vc.virtual.core.deleteNamespacedPod({
      name: 'privileged',
      namespace: 'default',
      gracePeriodSeconds: 0,
    });
    await waitUntil(
      () => isGone(() => vc.virtual.core.readNamespacedPod({ name: 'privileged', namespace: 'default' })),
      { what: 'the privileged pod to be gone', ...WAIT },
    );
    await createPod('privileged');
    await waitUntil(() => hostPodExists('privileged'), { what: 'the fixed pod on the host', ...WAIT });
  });
});
