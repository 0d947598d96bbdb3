import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, pidsMentioning, startCluster } from '../../controlplane/index.ts';
import { type KubeClients, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';

describe('virtual mode (no scheduler, no nodes)', () => {
  let cluster: Cluster;
  let virtual: KubeClients;

  beforeAll(async () => {
    cluster = await startCluster({ mode: 'virtual', name: 'virtual-test' });
    virtual = kubeClients(cluster.kubeconfig);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs only etcd, kube-apiserver and kube-controller-manager, in one process', () => {
    expect(cluster.processes.map((p) => p.name)).toEqual(['vcontrolplane']);
    const argv = readFileSync(`/proc/${cluster.processes[0]!.pid}/cmdline`, 'utf8').split('\0');
    expect(argv.filter((arg) => ['etcd', 'kube-apiserver', 'kube-controller-manager'].includes(arg))).toEqual(
      ['etcd', 'kube-apiserver', 'kube-controller-manager'],
    );
  });

  it('turns a Deployment into a ReplicaSet and pods that stay Pending', async () => {
    await virtual.apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'app' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'app' } },
          template: {
            metadata: { labels: { app: 'app' } },
            spec: { containers: [{ name: 'c', image: 'nginx' }] },
          },
        },
      },
    });
    const replicaSets = await waitUntil(
      async () => {
        const list = await virtual.apps.listNamespacedReplicaSet({
          namespace: 'default',
          labelSelector: 'app=app',
        });
        return list.items.length === 1 ? list.items : undefined;
      },
      { what: 'one ReplicaSet for deployment app' },
    );
    expect(replicaSets[0]?.metadata?.ownerReferences?.[0]?.name).toBe('app');
    await waitUntil(
      async () => {
        const list = await virtual.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=app' });
        return list.items.length === 2 ? list.items : undefined;
      },
      { what: 'two pods of deployment app' },
    );
    // Give a scheduler, were there one, time to act: still nothing binds them.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const again = await virtual.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=app' });
    expect(again.items).toHaveLength(2);
    for (const pod of again.items) {
      expect(pod.status?.phase).toBe('Pending');
      expect(pod.spec?.nodeName).toBeUndefined();
    }
    expect((await virtual.core.listNode()).items).toEqual([]);
  });

  it('logs no line per etcd request: only slow ones, as etcd on its own does', () => {
    // By now the servers made hundreds of etcd requests (the Deployment above, every controller's list).
    const log = readFileSync(cluster.processes[0]!.logFile, 'utf8');
    expect(log).toContain('"caller":"embed/'); // etcd's own lines go to this log
    expect(log.match(/"msg":"request stats"/g) ?? []).toHaveLength(0);
  });
});

describe('the one-process virtual control plane', () => {
  it('exits 0 on SIGTERM, leaving nothing behind', async () => {
    const cluster = await startCluster({ mode: 'virtual', name: 'virtual-stop-test' });
    const [controlPlane] = cluster.processes;
    await cluster.stop();
    expect(await controlPlane!.exited).toBe(0);
    expect(existsSync(`/proc/${controlPlane!.pid}`)).toBe(false);
    expect(pidsMentioning(cluster.dir)).toEqual([]);
  });

  it('fails the start, with its log, when the API server cannot start', async () => {
    await expect(
      startCluster({ mode: 'virtual', name: 'virtual-bad-test', extraApiServerArgs: ['--no-such-flag'] }),
    ).rejects.toThrow(/vcontrolplane exited[\s\S]*unknown flag: --no-such-flag/);
  });

  it('runs as three processes on request, for comparisons', async () => {
    const cluster = await startCluster({
      mode: 'virtual',
      name: 'virtual-split-test',
      separateProcesses: true,
    });
    try {
      expect(cluster.processes.map((p) => p.name).sort()).toEqual([
        'etcd',
        'kube-apiserver',
        'kube-controller-manager',
      ]);
    } finally {
      await cluster.stop();
    }
  });
});

describe('stop()', () => {
  it('leaves no process and no folder behind', async () => {
    const cluster = await startCluster({ mode: 'host', name: 'stop-test', nodes: 1 });
    const pids = cluster.processes.map((p) => p.pid);
    expect(pids).toHaveLength(5);
    expect(pidsMentioning(cluster.dir).length).toBeGreaterThanOrEqual(5);
    await cluster.stop();
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(pidsMentioning(cluster.dir)).toEqual([]);
    expect(existsSync(cluster.dir)).toBe(false);
  });
});
