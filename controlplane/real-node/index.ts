import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Binaries } from '../binaries.ts';
import type { ClusterCertificates } from '../certs.ts';
import { startHostDns } from '../host-dns.ts';
import { seedImages } from '../images/build.ts';
import { localImageRecipes } from '../images/local-images.ts';
import { startIngressController } from '../ingress.ts';
import { renderKubeconfig } from '../kubeconfig.ts';
import { freePort } from '../net.ts';
import { ManagedProcess, pidsMentioning, waitWhileRunning } from '../process.ts';
import { startRegistry } from '../registry.ts';
import { startStorageProvisioner } from '../storage.ts';
import { type RealNodeAddresses, realNodeAddresses } from './addresses.ts';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  MIRRORED_REGISTRIES,
  realNodePaths,
  registryHostsToml,
} from './configs.ts';
import { claimSlot, createNetwork, deleteNetwork, netnsPath, RealNodeError, run } from './netns.ts';

const exec = promisify(execFile);

export type { RealNodeAddresses } from './addresses.ts';
export { RealNodeError } from './netns.ts';

/** The port of the local registry on the machine's end of the node's veth pair. */
export const REGISTRY_PORT = 5000;

/** Debian's packages a real node runs on (installed with apt-get when missing). */
const nodePackages = {
  containerd: '/usr/bin/containerd',
  runc: '/usr/sbin/runc',
  'containernetworking-plugins': '/usr/lib/cni/bridge',
  iptables: '/usr/sbin/iptables',
  conntrack: '/usr/sbin/conntrack',
};

/** What decides whether a real node can run here (the process's and the machine's), for a pure check. */
export interface RealNodeHost {
  uid: number | undefined;
  platform: string;
  /** Whether a memory cgroup controller is mounted (v1 `/sys/fs/cgroup/memory` or a v2 root). */
  hasMemoryCgroup: boolean;
}

export function thisHost(): RealNodeHost {
  return {
    uid: process.getuid?.(),
    platform: process.platform,
    hasMemoryCgroup: existsSync('/sys/fs/cgroup/memory') || existsSync('/sys/fs/cgroup/cgroup.controllers'),
  };
}

/**
 * Why this machine cannot run a real node, or undefined when it can: it needs Linux, root (network
 * namespaces, mounts, containers) and cgroups.
 */
export function realNodeUnsupportedReason(host: RealNodeHost = thisHost()): string | undefined {
  if (host.platform !== 'linux') return `a real node needs Linux (this is ${host.platform})`;
  if (host.uid !== 0) return 'a real node needs root (it makes network namespaces, mounts and containers)';
  if (!host.hasMemoryCgroup) return 'a real node needs cgroups (no memory controller under /sys/fs/cgroup)';
  return undefined;
}

async function ensureNodePackages(report: (message: string) => void): Promise<void> {
  const missing = Object.entries(nodePackages)
    .filter(([, file]) => !existsSync(file))
    .map(([name]) => name);
  if (missing.length === 0) return;
  report(`installing ${missing.join(', ')} (apt-get)…`);
  try {
    await exec('sh', [
      '-c',
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`,
    ]);
  } catch (error) {
    throw new RealNodeError(
      `the real node needs Debian's ${missing.join(', ')} and apt-get could not install them: ${(error as { stderr?: string }).stderr ?? error}`,
    );
  }
}

/** The network of a real node, made before the API server starts so that it can advertise on it. */
export interface RealNodeNetwork {
  addresses: RealNodeAddresses;
  /** Extra API server flags: reachable from pods, and how it reaches kubelet. */
  apiServerArgs(pki: (file: string) => string): string[];
  start(options: StartNodeOptions): Promise<RealNode>;
  /** Removes the network (when the cluster failed before the node started). */
  release(): Promise<void>;
}

export interface StartNodeOptions {
  binaries: Binaries;
  /** The API server's port (it listens on every address). */
  apiServerPort: number;
  certificates: ClusterCertificates;
  /** Admin kubeconfig as seen from this machine. */
  kubeconfig: string;
  /** host:port for the ingress controller's HTTP entry point. */
  ingressListen: string;
  nodeName?: string;
  report: (message: string) => void;
}

export interface RealNode {
  name: string;
  addresses: RealNodeAddresses;
  /** Where the ingress controller serves preview URLs, e.g. `http://127.0.0.1:8080`. */
  ingressUrl: string;
  /** Its Prometheus metrics (requests per preview), on an entry point of their own on this machine. */
  ingressMetricsUrl: string;
  /** host:port of the local registry (the node pulls from it; push a pull request's image here). */
  registry: string;
  /** containerd's socket (`ctr --address`), to see what the node runs. */
  containerdSocket: string;
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

/**
 * Claims a slot and makes the node's network namespace. `dir` is the node's own folder (removed on
 * stop). Refuses with the reason on a machine that cannot run it.
 */
export async function prepareRealNode(
  dir: string,
  report: (message: string) => void,
): Promise<RealNodeNetwork> {
  const unsupported = realNodeUnsupportedReason();
  if (unsupported) throw new RealNodeError(`${unsupported}; run without --real-node for kwok nodes only`);
  await ensureNodePackages(report);
  const paths = realNodePaths(dir);
  const slot = await claimSlot(dir, async (stale, owner) => {
    await cleanNode(realNodePaths(owner.root), realNodeAddresses(stale));
  });
  const { addresses } = slot;
  try {
    await createNetwork(addresses);
  } catch (error) {
    await deleteNetwork(addresses).catch(() => {});
    await slot.release();
    throw error;
  }
  const release = async () => {
    await deleteNetwork(addresses).catch(() => {});
    await rm(paths.root, { recursive: true, force: true });
    await slot.release();
  };
  return {
    addresses,
    release,
    apiServerArgs: (pki) => [
      '--bind-address=0.0.0.0',
      `--advertise-address=${addresses.hostIP}`,
      '--endpoint-reconciler-type=lease',
      // kubelet's serving address is the node's InternalIP (its name need not resolve).
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-client-certificate=${pki('admin.crt')}`,
      `--kubelet-client-key=${pki('admin.key')}`,
    ],
    start: (options) => startNode(addresses, dir, options, release),
  };
}

async function startNode(
  addresses: RealNodeAddresses,
  dir: string,
  options: StartNodeOptions,
  release: () => Promise<void>,
): Promise<RealNode> {
  const { binaries, report } = options;
  const paths = realNodePaths(dir);
  const name = options.nodeName ?? 'real-node';
  const processes: ManagedProcess[] = [];
  const logs = join(dir, 'logs');
  await mkdir(logs, { recursive: true });
  const inNode = (component: string, command: string, args: string[]) => {
    const child = new ManagedProcess({
      name: component,
      command: 'nsenter',
      args: [`--net=${netnsPath(addresses)}`, '--', command, ...args],
      logFile: join(logs, `${component}.log`),
    });
    processes.push(child);
    return child;
  };
  const stop = async () => {
    for (const child of [...processes].reverse()) {
      if (child.name === 'containerd') await removeContainers(paths.containerdSocket);
      await child.stop();
    }
    await cleanNode(paths, addresses);
    await release();
  };

  try {
    const registry = `${addresses.hostIP}:${REGISTRY_PORT}`;
    processes.push(await startRegistry({ binaries, address: registry, dir }));
    await waitWhileRunning('the local registry', Date.now() + 30_000, processes, async () => {
      const res = await fetch(`http://${registry}/v2/`).catch(() => undefined);
      return res?.status === 200;
    });
    const built = await seedImages({
      registry,
      recipes: await localImageRecipes(report),
      binaries,
      report,
    });
    if (built.length) report(`local registry: built ${built.length} image names`);

    await mkdir(dirname(paths.containerdConfig), { recursive: true });
    await mkdir(paths.cniConfDir, { recursive: true });
    await mkdir(paths.kubeletRoot, { recursive: true });
    await mkdir(paths.podLogsDir, { recursive: true });
    await writeFile(paths.caFile, options.certificates.ca.cert);
    await writeFile(paths.containerdConfig, containerdConfig(paths));
    await writeFile(join(paths.cniConfDir, '10-vcluster-preview.conflist'), cniConfig(addresses, paths));
    for (const upstream of Object.keys(MIRRORED_REGISTRIES) as (keyof typeof MIRRORED_REGISTRIES)[]) {
      await mkdir(join(paths.registryHosts, upstream), { recursive: true });
      await writeFile(
        join(paths.registryHosts, upstream, 'hosts.toml'),
        registryHostsToml(upstream, registry),
      );
    }
    await writeFile(paths.kubeletConfig, kubeletConfig(addresses, paths));
    await writeFile(paths.kubeProxyConfig, kubeProxyConfig(addresses, paths, name));
    await writeFile(
      paths.nodeKubeconfig,
      renderKubeconfig({
        name: 'real-node',
        server: `https://${addresses.hostIP}:${options.apiServerPort}`,
        caCert: options.certificates.ca.cert,
        clientCert: options.certificates.admin.cert,
        clientKey: options.certificates.admin.key,
      }),
      { mode: 0o600 },
    );

    inNode('containerd', '/usr/bin/containerd', ['--config', paths.containerdConfig]);
    await waitWhileRunning('containerd', Date.now() + 30_000, processes, async () =>
      existsSync(paths.containerdSocket),
    );
    inNode('kubelet', binaries.path('kubelet'), [
      `--config=${paths.kubeletConfig}`,
      `--kubeconfig=${paths.nodeKubeconfig}`,
      `--root-dir=${paths.kubeletRoot}`,
      `--cert-dir=${join(paths.kubeletRoot, 'pki')}`,
      `--hostname-override=${name}`,
      `--node-ip=${addresses.nodeIP}`,
    ]);
    inNode('kube-proxy', binaries.path('kube-proxy'), [`--config=${paths.kubeProxyConfig}`]);
    // NetworkPolicy is enforced here, on the node's first packet of each connection.
    const netpol = inNode('netpol', binaries.path('netpol'), [
      `--kubeconfig=${paths.nodeKubeconfig}`,
      `--hostname=${name}`,
      `--pod-cidr=${addresses.podCIDR}`,
      `--bridge-ip=${addresses.bridgeIP}`,
    ]);

    const kc = new KubeConfig();
    kc.loadFromString(options.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    await waitWhileRunning(`node ${name} Ready`, Date.now() + 90_000, processes, async () => {
      const node = await core.readNode({ name }).catch(() => undefined);
      return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    });
    // No pod may run before its connections are judged (the engine logs this once its hooks are in).
    await waitWhileRunning('NetworkPolicy enforcement (netpol)', Date.now() + 60_000, processes, async () =>
      netpol.logTail(200).includes('netpol: judging new connections'),
    );
    report(`real node ${name} Ready (pods ${addresses.podCIDR}, registry ${registry})`);
    const metricsListen = `127.0.0.1:${await freePort()}`;
    processes.push(
      await startIngressController({
        binaries,
        kubeconfig: options.kubeconfig,
        server: `https://127.0.0.1:${options.apiServerPort}`,
        caFile: paths.caFile,
        listen: options.ingressListen,
        metricsListen,
        logDir: logs,
      }),
    );
    // Claims of the default StorageClass get a folder under the node's own (removed on stop).
    processes.push(
      await startStorageProvisioner({
        binaries,
        kubeconfig: options.kubeconfig,
        kubeconfigFile: paths.nodeKubeconfig,
        volumesDir: paths.volumesDir,
        logDir: logs,
      }),
    );
    processes.push(
      await startHostDns({
        binaries,
        listenIP: addresses.hostIP,
        kubeconfigFile: paths.nodeKubeconfig,
        dir: logs,
      }),
    );
    const ingressUrl = `http://${options.ingressListen}`;
    // Traefik answers 404 for a host no Ingress names once its entry point is up (any other answer
    // is another server on that port).
    await waitWhileRunning('the ingress controller', Date.now() + 30_000, processes, async () => {
      const res = await fetch(`${ingressUrl}/`).catch(() => undefined);
      return res?.status === 404;
    });
    return {
      name,
      addresses,
      ingressUrl,
      ingressMetricsUrl: `http://${metricsListen}/metrics`,
      registry,
      containerdSocket: paths.containerdSocket,
      processes,
      stop,
    };
  } catch (error) {
    // The registry logs every missing blob of a push as an error: its log only matters if it ended.
    const tails = processes
      .filter((p) => p.name !== 'registry' || p.hasExited)
      .map((p) => `--- ${p.name} (${p.logFile}) ---\n${p.logTail(15)}`)
      .join('\n');
    await stop().catch(() => {});
    throw new RealNodeError(`the real node did not start: ${(error as Error).message}\n${tails}`);
  }
}

/**
 * Ends every container of the node through containerd, as `ctr` does: kill, then delete the task,
 * which lets its shim remove the container's cgroups and root file system mount.
 */
async function removeContainers(socket: string): Promise<void> {
  if (!existsSync(socket)) return;
  const ctr = (...args: string[]) => exec('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args]);
  const tasks = (await ctr('tasks', 'list', '--quiet').catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .filter(Boolean);
  await Promise.all(tasks.map((id) => ctr('tasks', 'kill', '--signal', 'SIGKILL', id).catch(() => {})));
  await Promise.all(tasks.map((id) => ctr('tasks', 'delete', '--force', id).catch(() => {})));
  const containers = (await ctr('containers', 'list', '--quiet').catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .filter(Boolean);
  await Promise.all(containers.map((id) => ctr('containers', 'delete', id).catch(() => {})));
}

/** Where runc puts a container's cgroup in each hierarchy: CRI names it `/k8s.io/<id>` (no parent given). */
const containerCgroups = (id: string): string[] => {
  const hierarchies = existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : [];
  return hierarchies
    .map((hierarchy) => join('/sys/fs/cgroup', hierarchy, 'k8s.io', id))
    .filter((dir) => existsSync(join(dir, 'cgroup.procs')));
};

/**
 * Ends the processes of every container the node ever started, found by their cgroups (a container
 * outlives its shim: killing the shim alone leaves it running under PID 1), and removes the cgroups.
 */
async function removeContainerCgroups(ids: string[]): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    let left = 0;
    for (const id of ids) {
      for (const dir of containerCgroups(id)) {
        const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
        try {
          await rmdir(dir);
        } catch {
          left++;
        }
      }
    }
    if (left === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The ids of every container (sandboxes included) containerd keeps state for. */
function containerIds(paths: ReturnType<typeof realNodePaths>): string[] {
  const tasks = join(paths.containerdState, 'io.containerd.runtime.v2.task', 'k8s.io');
  return existsSync(tasks) ? readdirSync(tasks) : [];
}

/**
 * What a crash can leave of a node: processes (node components, shims, containers), cgroups, mounts
 * under its folder and its network. Safe to run twice.
 */
async function cleanNode(paths: ReturnType<typeof realNodePaths>, addresses: RealNodeAddresses | undefined) {
  for (const pid of pidsMentioning(paths.root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await removeContainerCgroups(containerIds(paths));
  await unmountUnder(paths.root);
  if (addresses) await deleteNetwork(addresses);
}

/** Unmounts every mount point under `root`, deepest first (volumes, rootfs, network namespaces). */
async function unmountUnder(root: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => !!point && (point === root || point.startsWith(`${root}/`)))
    .map((point) => point.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) {
    await run('umount', ['-l', point]).catch(() => {});
  }
}
