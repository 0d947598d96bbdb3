import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { type Binaries, ensureBinaries } from './binaries.ts';
import { type ClusterCertificates, createClusterCertificates } from './certs.ts';
import {
  virtualApiServerArgs,
  virtualControllerManagerArgs,
  virtualDisabledControllers,
  virtualGoEnvironment,
  virtualRuntimeConfig,
} from './footprint.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { freePort, httpsGet } from './net.ts';
import { ManagedProcess, waitWhileRunning } from './process.ts';
import { prepareRealNode, type RealNode, type RealNodeNetwork } from './real-node/index.ts';
import type { BinaryName } from './versions.ts';

export type ClusterMode = 'host' | 'virtual';

export interface ClusterOptions {
  /**
   * `host`: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok fake nodes.
   * `virtual`: etcd (or a prefix in a shared one), kube-apiserver and kube-controller-manager only,
   * in one `vcontrolplane` process; its pods stay Pending until a syncer runs them elsewhere.
   */
  mode: ClusterMode;
  /**
   * Virtual mode: run etcd, kube-apiserver and kube-controller-manager as three processes, as host
   * mode does, instead of one. For comparisons (benchmarks).
   */
  separateProcesses?: boolean;
  /** Names the kubeconfig context and the working folder. */
  name?: string;
  /** Host mode: how many kwok fake nodes to create (default 2). */
  nodes?: number;
  /**
   * Host mode: also run a real node (kubelet, kube-proxy, containerd, CNI in a network namespace of
   * its own), the local registry its images come from, and an ingress controller listening at
   * `realNode.ingressListen`. Needs root. kwok nodes beside it are tainted so that workloads land here.
   */
  realNode?: { ingressListen: string };
  /** Service ClusterIP range (default 10.96.0.0/16). A virtual cluster uses its host's range. */
  serviceClusterIPRange?: string;
  /** Host mode: the pod IP range kwok hands out (default 10.244.0.0/16). */
  podCIDR?: string;
  /** Use a running etcd under this key prefix instead of starting one. */
  etcd?: { servers: string; prefix: string };
  /**
   * Space quota of the etcd it starts, in bytes (default 8 GiB). Past it etcd refuses writes
   * ("database space exceeded"): a virtual cluster's tenant cannot fill the machine's disk.
   */
  storeQuotaBytes?: number;
  /** Working folder (certs, data, logs). Default: a new temporary folder, removed by stop(). */
  dir?: string;
  /** Keep the working folder on stop (for debugging and for a cluster that is resumed later). */
  keepDir?: boolean;
  /** API server port (default: a free one). */
  apiServerPort?: number;
  /** Extra names the serving certificate must be valid for. */
  hosts?: string[];
  binaries?: Binaries;
  extraApiServerArgs?: string[];
  /** Progress messages. */
  report?: (message: string) => void;
  /** How long to wait for readiness (default 90 s). */
  readyTimeoutMs?: number;
}

export interface Cluster {
  name: string;
  mode: ClusterMode;
  dir: string;
  server: string;
  kubeconfig: string;
  kubeconfigPath: string;
  certificates: ClusterCertificates;
  etcd: { servers: string; prefix: string };
  processes: ManagedProcess[];
  binaries: Binaries;
  /** The real node, when `realNode` was asked for. */
  realNode?: RealNode;
  stop(): Promise<void>;
}

export class ClusterStartError extends Error {
  override name = 'ClusterStartError';
}

/** Starts a working cluster from the pinned upstream binaries and waits until it serves. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const report = options.report ?? (() => {});
  const binaries = options.binaries ?? (await ensureBinaries(report));
  const name = options.name ?? `${options.mode}-${process.pid}`;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `vcp-${name}-`)));
  await mkdir(join(dir, 'pki'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  const processes: ManagedProcess[] = [];
  let stopped = false;
  let network: RealNodeNetwork | undefined;
  let realNode: RealNode | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The node first (its containers, mounts and network), while the API server still answers.
    if (realNode) await realNode.stop();
    else if (network) await network.release();
    // Reverse start order: the API server's clients first, etcd last.
    for (const child of [...processes].reverse()) await child.stop();
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const pki = (file: string) => join(dir, 'pki', file);
    // A cluster started again in its old folder (a resumed virtual cluster) keeps its identity.
    if (options.realNode && options.mode === 'host')
      network = await prepareRealNode(join(dir, 'node'), report);
    const reused = options.dir && !network ? await readCertificates(pki) : undefined;
    // Pods reach the API server at the node network's address and the `kubernetes` Service's.
    const hosts = [
      ...(options.hosts ?? []),
      ...(network ? [network.addresses.hostIP, network.addresses.kubernetesServiceIP] : []),
    ];
    const certificates = reused ?? (await createClusterCertificates({ hosts }));
    await Promise.all([
      writeFile(pki('ca.crt'), certificates.ca.cert),
      writeFile(pki('ca.key'), certificates.ca.key, { mode: 0o600 }),
      writeFile(pki('apiserver.crt'), certificates.serving.cert),
      writeFile(pki('apiserver.key'), certificates.serving.key, { mode: 0o600 }),
      writeFile(pki('sa.pub'), certificates.serviceAccount.publicKey),
      writeFile(pki('sa.key'), certificates.serviceAccount.privateKey, { mode: 0o600 }),
      writeFile(pki('admin.crt'), certificates.admin.cert),
      writeFile(pki('admin.key'), certificates.admin.key, { mode: 0o600 }),
    ]);
    const port = options.apiServerPort ?? (await freePort());
    const server = `https://127.0.0.1:${port}`;
    const kubeconfig = renderKubeconfig({
      name,
      server,
      caCert: certificates.ca.cert,
      clientCert: certificates.admin.cert,
      clientKey: certificates.admin.key,
    });
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
    const start = (component: BinaryName, args: string[]) => {
      const child = new ManagedProcess({
        name: component,
        command: binaries.path(component),
        args,
        logFile: join(dir, 'logs', `${component}.log`),
        // A virtual cluster idles most of its life: collect garbage more often for a smaller footprint.
        env:
          options.mode === 'virtual' ? { ...process.env, ...virtualGoEnvironment(component) } : process.env,
      });
      processes.push(child);
      return child;
    };

    // One process for a virtual cluster: one Go runtime and one copy of the code the three share.
    const combined = options.mode === 'virtual' && !options.separateProcesses;
    let etcd = options.etcd;
    let etcdArgs: string[] | undefined;
    if (!etcd) {
      const [clientPort, peerPort] = [await freePort(), await freePort()];
      const client = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      etcdArgs = [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=default=${peer}`,
        // Throwaway clusters: durability is not worth an fsync per write on a shared disk.
        '--unsafe-no-fsync=true',
        `--quota-backend-bytes=${options.storeQuotaBytes ?? 8 * 1024 ** 3}`,
        '--auto-compaction-mode=periodic',
        '--auto-compaction-retention=5m',
        '--log-level=warn',
      ];
      if (!combined) start('etcd', etcdArgs);
      etcd = { servers: client, prefix: '/registry' };
    }

    const serviceRange = network?.addresses.serviceCIDR ?? options.serviceClusterIPRange ?? '10.96.0.0/16';
    const apiServerArgs = [
      `--etcd-servers=${etcd.servers}`,
      `--etcd-prefix=${etcd.prefix}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--tls-cert-file=${pki('apiserver.crt')}`,
      `--tls-private-key-file=${pki('apiserver.key')}`,
      `--client-ca-file=${pki('ca.crt')}`,
      `--secure-port=${port}`,
      ...(network
        ? network.apiServerArgs(pki)
        : [
            '--bind-address=127.0.0.1',
            // Without a default route the API server cannot pick an address; none is needed without
            // endpoint reconciling, which a loopback advertise address would break.
            '--advertise-address=127.0.0.1',
            '--endpoint-reconciler-type=none',
          ]),
      `--service-cluster-ip-range=${serviceRange}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki('sa.pub')}`,
      `--service-account-signing-key-file=${pki('sa.key')}`,
      '--allow-privileged=true',
      '--profiling=false',
      '--enable-priority-and-fairness=false',
      ...(options.mode === 'virtual' ? [`--runtime-config=${virtualRuntimeConfig.join(',')}`] : []),
      ...(options.mode === 'virtual' ? virtualApiServerArgs : []),
      ...(options.extraApiServerArgs ?? []),
    ];
    const tls = { ca: certificates.ca.cert, cert: certificates.admin.cert, key: certificates.admin.key };
    const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
    const apiServerReady = () =>
      waitWhileRunning('kube-apiserver /readyz', deadline, processes, async () => {
        const res = await httpsGet(`${server}/readyz`, tls).catch(() => undefined);
        return res?.status === 200;
      });
    if (!combined) {
      start('kube-apiserver', apiServerArgs);
      await apiServerReady();
    }

    const controllers =
      options.mode === 'virtual'
        ? // No nodes of its own: the controllers that manage nodes and volumes on nodes would only fight the syncer.
          // Nor the dynamic resource allocation API (see footprint.ts): its controllers would only retry lists.
          `*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-cloud-node-lifecycle,-ttl,${virtualDisabledControllers.map((c) => `-${c}`).join(',')}`
        : '*';
    const controllerManagerArgs = [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      `--root-ca-file=${pki('ca.crt')}`,
      `--service-account-private-key-file=${pki('sa.key')}`,
      `--cluster-signing-cert-file=${pki('ca.crt')}`,
      `--cluster-signing-key-file=${pki('ca.key')}`,
      `--service-cluster-ip-range=${serviceRange}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      `--controllers=${controllers}`,
      // kwok renews the fake nodes' leases, but on a busy 2-core machine its client can fall behind
      // for longer than kwokctl's 40 s; a fake node going NotReady would only make tests flaky.
      '--node-monitor-grace-period=5m',
      '--profiling=false',
      ...(options.mode === 'virtual' ? virtualControllerManagerArgs : []),
    ];
    if (combined) {
      // It starts the controller manager itself once its API server's /readyz answers.
      start('vcontrolplane', [
        ...(etcdArgs ? ['etcd', ...etcdArgs, '--'] : []),
        'kube-apiserver',
        ...apiServerArgs,
        // Its own controller manager's watches keep connections open until the process ends: without
        // this the API server waits out its 60 s request timeout for them on SIGTERM, with it 2 s.
        '--shutdown-send-retry-after=true',
        '--',
        'kube-controller-manager',
        ...controllerManagerArgs,
      ]);
      await apiServerReady();
    } else {
      start('kube-controller-manager', controllerManagerArgs);
    }

    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);

    if (options.mode === 'host') {
      start('kube-scheduler', [
        `--kubeconfig=${kubeconfigPath}`,
        `--authentication-kubeconfig=${kubeconfigPath}`,
        `--authorization-kubeconfig=${kubeconfigPath}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        '--leader-elect=false',
        '--profiling=false',
      ]);
      start('kwok', [
        `--kubeconfig=${kubeconfigPath}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        `--cidr=${options.podCIDR ?? '10.244.0.0/16'}`,
        '--node-ip=127.0.0.1',
        // Node leases are the nodes' heartbeat: without them the stages post node status only every
        // 10 minutes, so the node controller marks every node NotReady once the grace period below
        // ends and sets Ready=False on all their pods, which nothing sets back (kwokctl's default).
        '--node-lease-duration-seconds=40',
        ...binaries.kwokStages.map((file) => `--config=${file}`),
      ]);
      const count = options.nodes ?? 2;
      for (let i = 0; i < count; i++) {
        await core.createNode({ body: fakeNode(`kwok-node-${i}`, { tainted: !!network }) });
      }
      if (network) {
        realNode = await network.start({
          binaries,
          apiServerPort: port,
          certificates,
          kubeconfig,
          ingressListen: options.realNode!.ingressListen,
          report,
        });
      }
    }

    // Pods cannot be created before the service-account controller made the default account.
    await waitWhileRunning('the default service account', deadline, processes, async () => {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
        return true;
      } catch {
        return false;
      }
    });
    report(`${options.mode} cluster ${name} ready at ${server}`);
    return {
      name,
      mode: options.mode,
      dir,
      server,
      kubeconfig,
      kubeconfigPath,
      certificates,
      etcd,
      processes,
      binaries,
      ...(realNode ? { realNode } : {}),
      stop,
    };
  } catch (error) {
    const logs = processes.map((p) => `--- ${p.name} (${p.logFile}) ---\n${p.logTail()}`).join('\n');
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new ClusterStartError(`${options.mode} cluster ${name} did not start: ${message}\n${logs}`);
  }
}

async function readCertificates(pki: (file: string) => string): Promise<ClusterCertificates | undefined> {
  const files = [
    'ca.crt',
    'ca.key',
    'apiserver.crt',
    'apiserver.key',
    'admin.crt',
    'admin.key',
    'sa.pub',
    'sa.key',
  ];
  if (!files.every((file) => existsSync(pki(file)))) return undefined;
  const [caCert, caKey, servingCert, servingKey, adminCert, adminKey, saPub, saKey] = await Promise.all(
    files.map((file) => readFile(pki(file), 'utf8')),
  );
  return {
    ca: { cert: caCert!, key: caKey! },
    serving: { cert: servingCert!, key: servingKey! },
    admin: { cert: adminCert!, key: adminKey! },
    serviceAccount: { publicKey: saPub!, privateKey: saKey! },
  };
}

/** The taint of kwok nodes beside a real node: only pods that ask for a fake node land there. */
export const FAKE_NODE_TAINT = { key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' } as const;

/**
 * A Node that kwok manages (by annotation) and keeps Ready with lease heartbeats. `tainted`: beside
 * a real node, so that workloads run for real unless they tolerate {@link FAKE_NODE_TAINT}.
 */
export function fakeNode(name: string, options: { tainted?: boolean } = {}): V1Node {
  const resources = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    ...(options.tainted ? { spec: { taints: [{ ...FAKE_NODE_TAINT }] } } : {}),
    status: { allocatable: resources, capacity: resources },
  };
}
