import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Binaries, freePort, pidsMentioning, startCluster } from '../controlplane/index.ts';
import { kubeClients } from '../kube/client.ts';
import { waitUntil } from '../kube/wait.ts';
import { localProvider } from '../preview/providers/local/provider.ts';
import { containersOf } from '../test/support/real-node.ts';
import { rssMiB } from './results.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 5000));

/** Pids in a container's memory cgroup (CRI names it `/k8s.io/<id>`). */
const containerPids = (id: string): number[] => {
  try {
    return readFileSync(`/sys/fs/cgroup/memory/k8s.io/${id}/cgroup.procs`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

/**
 * Idle memory of a real node (its own processes), and of one preview on it: its virtual cluster's
 * processes and the containers of the example app (two nginx-unprivileged replicas) with their
 * sandboxes and shims. Returns the table rows for the vcluster section.
 */
export async function realNodeMemoryRows(binaries: Binaries): Promise<string[]> {
  const host = await startCluster({
    mode: 'host',
    name: 'bench-real',
    nodes: 0,
    binaries,
    realNode: { ingressListen: `127.0.0.1:${await freePort()}` },
  });
  const node = host.realNode!;
  const stateRoot = await mkdtemp(join(tmpdir(), 'vcp-bench-real-'));
  const provider = localProvider({ hostKubeconfig: host.kubeconfig, stateRoot });
  try {
    await settle();
    const component = (name: string) =>
      rssMiB(node.processes.filter((p) => p.name === name).map((p) => p.pid));
    // Every process the node runs (kubelet, containerd, kube-proxy, the registry, Traefik, the provisioner).
    const parts = [...new Set(node.processes.map((p) => p.name))].map(
      (name) => [name, component(name)] as const,
    );
    const nodeTotal = parts.reduce((sum, [, mib]) => sum + mib, 0);
    console.log(`real node idle: ${parts.map(([n, m]) => `${n} ${m.toFixed(0)}`).join(', ')} MiB`);

    const name = 'bench-real';
    await provider.create({ name });
    const virtual = kubeClients(await provider.kubeconfig({ name }));
    await virtual.apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'hello' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'hello' } },
          template: {
            metadata: { labels: { app: 'hello' } },
            spec: { containers: [{ name: 'nginx', image: 'nginxinc/nginx-unprivileged:1.27' }] },
          },
        },
      },
    });
    await waitUntil(
      async () =>
        (await virtual.apps.readNamespacedDeployment({ name: 'hello', namespace: 'default' })).status
          ?.availableReplicas === 2,
      { what: 'the two replicas available on the real node', timeoutMs: 120_000 },
    );
    await settle();
    const hostNamespace = `vcluster-${name}`;
    const ids = containersOf(
      { netns: node.addresses.netns, containerdSocket: node.containerdSocket },
      hostNamespace,
    );
    const containers = rssMiB(ids.flatMap(containerPids));
    const shims = rssMiB(ids.flatMap((id) => pidsMentioning(`-id\u0000${id}`)));
    const virtualCluster = rssMiB(pidsMentioning(join(stateRoot, `vcluster-${name}--${name}`)));
    console.log(
      `one preview: virtual cluster ${virtualCluster.toFixed(0)} MiB, ${ids.length} containers (sandboxes included) ${containers.toFixed(0)} MiB, their shims ${shims.toFixed(0)} MiB`,
    );
    await provider.delete({ name });
    return [
      '',
      'Real node (`startCluster({ realNode })`, no kwok node), idle 5 s after ready; then one local virtual cluster on it running two `nginxinc/nginx-unprivileged:1.27` replicas (the example app), 5 s after they are available. Containers: the processes in their memory cgroups, sandboxes (pause) included; shims: `containerd-shim-runc-v2`, one per pod.',
      '',
      `| ${parts.map(([n]) => n).join(' | ')} | real node total | preview: virtual cluster | preview: containers (${ids.length}) | preview: shims |`,
      `|${parts.map(() => '---').join('|')}|---|---|---|---|`,
      `| ${parts.map(([, m]) => m.toFixed(0)).join(' | ')} | **${nodeTotal.toFixed(0)}** | ${virtualCluster.toFixed(0)} | ${containers.toFixed(0)} | ${shims.toFixed(0)} |`,
    ];
  } finally {
    await host.stop();
  }
}
