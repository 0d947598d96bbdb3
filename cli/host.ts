import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Cluster, isAlive, startCluster, stateHome } from '../controlplane/index.ts';
import { localProvider } from '../preview/providers/local/provider.ts';
import { startLocalRedis } from './local-redis.ts';

/** The embedded host cluster that `host up` keeps running in the background. */
export interface HostStatus {
  running: boolean;
  kubeconfig?: string;
  server?: string;
  pid?: number;
  startedAt?: string;
  nodes?: number;
  /** Whether a real node (kubelet, containerd) runs beside the kwok nodes. */
  realNode: boolean;
  /** Where the ingress controller serves preview URLs on this machine (real node only), e.g. `http://127.0.0.1:8080`. */
  ingressUrl?: string;
  /** Its Prometheus metrics, where the sweep counts visits (PREVIEW_TRAFFIC_METRICS_URL). */
  ingressMetricsUrl?: string;
  /** host:port of the local image registry the real node pulls from. */
  registry?: string;
  /** The embedded Redis the host process runs beside the cluster, for the service's queue. */
  redisUrl?: string;
  logFile: string;
}

export interface HostOptions {
  /** kwok fake nodes. */
  nodes: number;
  /** Run a real node (and the registry and ingress controller) beside them. */
  realNode: boolean;
  /** The ingress controller's port on 127.0.0.1 (real node only). */
  ingressPort: number;
}

interface HostState {
  pid: number;
  kubeconfig?: string;
  server?: string;
  startedAt?: string;
  nodes: number;
  realNode?: boolean;
  ingressUrl?: string;
  ingressMetricsUrl?: string;
  registry?: string;
  redisUrl?: string;
  ready: boolean;
  error?: string;
}

export class HostClusterError extends Error {
  override name = 'HostClusterError';
}

/** Where the embedded host cluster keeps its state; `VCLUSTER_PREVIEW_HOME` overrides it. */
export function hostStateDir(): string {
  return join(stateHome(), 'host');
}

const statePath = () => join(hostStateDir(), 'state.json');
const logPath = () => join(hostStateDir(), 'host.log');

async function readState(): Promise<HostState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(), 'utf8')) as HostState;
  } catch {
    return undefined;
  }
}

export async function hostStatus(): Promise<HostStatus> {
  const state = await readState();
  if (!state?.ready || !isAlive(state.pid)) return { running: false, realNode: false, logFile: logPath() };
  return {
    running: true,
    kubeconfig: state.kubeconfig,
    server: state.server,
    pid: state.pid,
    startedAt: state.startedAt,
    nodes: state.nodes,
    realNode: state.realNode ?? false,
    ...(state.ingressUrl ? { ingressUrl: state.ingressUrl } : {}),
    ...(state.ingressMetricsUrl ? { ingressMetricsUrl: state.ingressMetricsUrl } : {}),
    ...(state.registry ? { registry: state.registry } : {}),
    redisUrl: state.redisUrl,
    logFile: logPath(),
  };
}

/** The arguments of `host run` for these options. */
function runArgs(options: HostOptions): string[] {
  return [
    'host',
    'run',
    '--nodes',
    String(options.nodes),
    ...(options.realNode ? ['--real-node', '--ingress-port', String(options.ingressPort)] : []),
  ];
}

/** Starts the embedded host cluster in a background process (or finds it running) and waits until it serves. */
export async function hostUp(
  options: HostOptions & { report: (message: string) => void },
): Promise<HostStatus> {
  const current = await hostStatus();
  if (current.running) return current;
  const previous = await readState();
  if (previous && isAlive(previous.pid)) {
    options.report(`host cluster is starting (pid ${previous.pid}), waiting`);
  } else {
    await mkdir(hostStateDir(), { recursive: true });
    await rm(statePath(), { force: true });
    const log = openSync(logPath(), 'a');
    const entry = join(dirname(fileURLToPath(import.meta.url)), 'vcluster-preview.js');
    const child = spawn(process.execPath, [entry, ...runArgs(options)], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    options.report(`starting the host cluster in the background (pid ${child.pid}, log ${logPath()})`);
  }
  // A first run may build the control-plane binaries: allow for that.
  const deadline = Date.now() + 60 * 60 * 1000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const state = await readState();
    if (state?.error)
      throw new HostClusterError(`the host cluster did not start: ${state.error}\nlog: ${logPath()}`);
    if (state?.ready) return hostStatus();
    if (state && !isAlive(state.pid)) {
      throw new HostClusterError(`the host cluster process exited; see ${logPath()}`);
    }
  }
  throw new HostClusterError(`the host cluster was not ready after an hour; see ${logPath()}`);
}

/** Stops the background host cluster and the local virtual clusters on it; returns false when none was running. */
export async function hostDown(report: (message: string) => void = () => {}): Promise<boolean> {
  const state = await readState();
  if (!state || !isAlive(state.pid)) {
    await rm(statePath(), { force: true });
    return false;
  }
  // The local provider's virtual clusters are processes of this machine that only this host's API
  // server knows of: they go first, while it still answers, or they would outlive it.
  if (state.ready && state.kubeconfig) {
    const provider = localProvider({ hostKubeconfig: await readFile(state.kubeconfig, 'utf8') });
    for (const cluster of await provider.list().catch(() => [])) {
      if (cluster.provider !== 'local') continue;
      report(`deleting virtual cluster ${cluster.name} (namespace ${cluster.namespace})`);
      await provider
        .delete(cluster)
        .catch((error) => report(`could not delete ${cluster.name}: ${(error as Error).message}`));
    }
  }
  process.kill(state.pid, 'SIGTERM');
  for (let i = 0; i < 300 && isAlive(state.pid); i++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  await rm(statePath(), { force: true });
  return true;
}

/**
 * The body of the background process: start the cluster and a durable Redis beside it (the local
 * defaults of `vcluster-preview up`), record them, stop both on SIGTERM.
 */
export async function runHost(options: HostOptions): Promise<void> {
  const write = (state: HostState) => writeFile(statePath(), `${JSON.stringify(state, null, 2)}\n`);
  await write({ pid: process.pid, nodes: options.nodes, ready: false });
  const redisDir = join(hostStateDir(), 'redis');
  await mkdir(redisDir, { recursive: true });
  const started = await Promise.allSettled([
    startCluster({
      mode: 'host',
      name: 'vcluster-preview-host',
      nodes: options.nodes,
      dir: join(hostStateDir(), 'cluster'),
      ...(options.realNode ? { realNode: { ingressListen: `127.0.0.1:${options.ingressPort}` } } : {}),
      report: (message) => console.log(message),
    }),
    startLocalRedis({ dir: redisDir, appendOnly: true }),
  ]);
  const [clusterResult, redisResult] = started;
  if (clusterResult.status === 'rejected' || redisResult.status === 'rejected') {
    const failure =
      clusterResult.status === 'rejected'
        ? clusterResult.reason
        : (redisResult as PromiseRejectedResult).reason;
    if (clusterResult.status === 'fulfilled') await clusterResult.value.stop();
    if (redisResult.status === 'fulfilled') await redisResult.value.stop();
    await write({ pid: process.pid, nodes: options.nodes, ready: false, error: (failure as Error).message });
    throw failure;
  }
  const cluster: Cluster = clusterResult.value;
  const redis = redisResult.value;
  const kubeconfig = join(hostStateDir(), 'kubeconfig');
  await writeFile(kubeconfig, cluster.kubeconfig, { mode: 0o600 });
  await write({
    pid: process.pid,
    kubeconfig,
    server: cluster.server,
    startedAt: new Date().toISOString(),
    nodes: options.nodes,
    realNode: !!cluster.realNode,
    ...(cluster.realNode
      ? {
          ingressUrl: cluster.realNode.ingressUrl,
          ingressMetricsUrl: cluster.realNode.ingressMetricsUrl,
          registry: cluster.realNode.registry,
        }
      : {}),
    redisUrl: redis.url,
    ready: true,
  });
  const shutdown = async () => {
    console.log('stopping the host cluster and Redis');
    await Promise.all([cluster.stop(), redis.stop()]);
    await rm(kubeconfig, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // Keep the process alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}
