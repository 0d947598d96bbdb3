import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isNotFound, type KubeClients, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { kubeconfigFile, runBinary } from '../support/kubectl.ts';

describe('host cluster (etcd, apiserver, controller manager, scheduler, kwok)', () => {
  let host: KubeClients;
  let kubeconfig: string;
  const namespace = `cp-${Date.now().toString(36)}`;

  beforeAll(async () => {
    host = kubeClients(inject('hostKubeconfig'));
    kubeconfig = await kubeconfigFile(inject('hostKubeconfig'));
    await host.core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitUntil(() => host.core.readNamespacedServiceAccount({ name: 'default', namespace }), {
      what: 'the default service account',
    });
  });

  afterAll(async () => {
    await host.core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it('lists its kwok fake nodes with real kubectl', async () => {
    const out = await runBinary('kubectl', ['get', 'nodes', '-o', 'name'], { kubeconfig });
    expect(out.trim().split('\n').sort()).toEqual(['node/kwok-node-0', 'node/kwok-node-1']);
    const version = await runBinary('kubectl', ['version', '-o', 'json'], { kubeconfig });
    expect(JSON.parse(version).serverVersion.gitVersion).toBe('v1.36.3');
  });

  it("renews each fake node's lease, the heartbeat that keeps nodes (and their pods) Ready", async () => {
    // Without renewed leases the node controller marks every node NotReady after its grace period
    // and sets Ready=False on all their pods: previews would stop being available after 5 minutes.
    /** Each node lease's name and when it was last renewed (a string: client-node leaves MicroTime as sent). */
    const renewals = async () =>
      (await host.coordination.listNamespacedLease({ namespace: 'kube-node-lease' })).items
        .map((lease) => `${lease.metadata?.name} ${String(lease.spec?.renewTime)}`)
        .sort();
    const first = await waitUntil(
      async () => {
        const leases = await renewals();
        return leases.length === 2 ? leases : undefined;
      },
      { what: 'a lease for each kwok node' },
    );
    expect(first.map((line) => line.split(' ')[0])).toEqual(['kwok-node-0', 'kwok-node-1']);
    await waitUntil(
      async () => {
        const now = await renewals();
        return now.every((line, i) => line !== first[i]) || undefined;
      },
      { what: 'both leases renewed', timeoutMs: 60_000, intervalMs: 1000 },
    );
  });

  it('runs a Deployment of 3 replicas to Available with 3 Running pods that have IPs', async () => {
    await host.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
          },
        },
      },
    });
    const deployment = await waitUntil(
      async () => {
        const d = await host.apps.readNamespacedDeployment({ name: 'web', namespace });
        return d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') &&
          d.status.availableReplicas === 3
          ? d
          : undefined;
      },
      { what: 'deployment web to be Available with 3 replicas' },
    );
    expect(deployment.status?.readyReplicas).toBe(3);
    const pods = await host.core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
      expect(pod.spec?.nodeName).toMatch(/^kwok-node-\d$/);
    }
  });

  it('deletes a namespace with running pods to completion', async () => {
    const doomed = `${namespace}-doomed`;
    await host.core.createNamespace({ body: { metadata: { name: doomed } } });
    await waitUntil(() => host.core.readNamespacedServiceAccount({ name: 'default', namespace: doomed }), {
      what: 'the default service account',
    });
    await host.core.createNamespacedPod({
      namespace: doomed,
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    });
    await waitUntil(
      async () =>
        (await host.core.readNamespacedPod({ name: 'p', namespace: doomed })).status?.phase === 'Running',
      { what: 'pod p to run' },
    );
    await host.core.deleteNamespace({ name: doomed });
    await waitUntil(
      async () => {
        try {
          await host.core.readNamespace({ name: doomed });
          return false;
        } catch (error) {
          return isNotFound(error);
        }
      },
      { what: `namespace ${doomed} to be gone`, timeoutMs: 60_000 },
    );
  });

  it('renders a trivial chart with real helm template', async () => {
    const chart = join(tmpdir(), `chart-${Date.now()}`);
    await mkdir(join(chart, 'templates'), { recursive: true });
    await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: trivial\nversion: 0.1.0\n');
    await writeFile(join(chart, 'values.yaml'), 'greeting: hello\n');
    await writeFile(
      join(chart, 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
    );
    const out = await runBinary('helm', ['template', 'demo', chart, '--set', 'greeting=hi']);
    expect(out).toContain('name: demo-cm');
    expect(out).toContain('greeting: "hi"');
  });
});
