import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { get, type RequestOptions } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import {
  type Cluster,
  ensureBinaries,
  freePort,
  ManagedProcess,
  startCluster,
} from '../controlplane/index.ts';
import { isGone, type KubeClients, kubeClients } from '../kube/client.ts';
import { waitUntil } from '../kube/wait.ts';
import { median, percentile, rssMiB, writeSection } from './results.ts';

/** Pods created one at a time after the burst, for the lone pod's latency. */
const SINGLE_PODS = 20;

const cli = join(import.meta.dirname, '..', 'cli', 'vcluster-preview.js');

const podBody = (name: string): V1Pod => ({
  metadata: { name, labels: { app: 'bench' } },
  spec: {
    containers: [{ name: 'c', image: 'nginx' }],
    ...(process.env.BENCH_NO_TOKEN ? { automountServiceAccountToken: false } : {}),
  },
});

/** Creates `count` pods with at most `inFlight` requests open; returns when each create was answered. */
async function createPods(
  clients: KubeClients,
  namespace: string,
  count: number,
  prefix: string,
  inFlight = 32,
): Promise<Map<string, number>> {
  const answered = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const name = `${prefix}-${next++}`;
      await clients.core.createNamespacedPod({ namespace, body: podBody(name) });
      answered.set(name, performance.now());
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return answered;
}

/** Records when each pod first appears in a namespace (watch ADDED), keyed by a name function. */
function watchAdds(clients: KubeClients, namespace: string, keyOf: (pod: V1Pod) => string | undefined) {
  const seen = new Map<string, number>();
  const controller = new Watch(clients.config).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (phase: string, pod: V1Pod) => {
      const key = keyOf(pod);
      if (phase === 'ADDED' && key && !seen.has(key)) seen.set(key, performance.now());
    },
    () => {},
  );
  return { seen, stop: async () => (await controller).abort() };
}

/** The API server's request counters (`apiserver_request_total`) by verb and resource, summed over codes. */
async function apiRequests(config: KubeConfig): Promise<Map<string, number>> {
  const options: RequestOptions = {};
  await config.applyToHTTPSOptions(options);
  const url = new URL('/metrics', config.getCurrentCluster()?.server);
  const text = await new Promise<string>((resolve, reject) => {
    get(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** Requests per pod between two counter readings, writes first, for the log: where the API time goes. */
function perPod(before: Map<string, number>, after: Map<string, number>, n: number): string {
  const isWrite = (key: string) => /^(POST|PUT|PATCH|DELETE|APPLY|CREATE|UPDATE)/.test(key);
  const rows = [...after]
    .map(([key, value]) => [key, (value - (before.get(key) ?? 0)) / n] as const)
    .filter(([, perPod]) => perPod >= 0.05)
    .sort((a, b) => Number(isWrite(b[0])) - Number(isWrite(a[0])) || b[1] - a[1]);
  const writes = rows.filter(([key]) => isWrite(key)).reduce((sum, [, v]) => sum + v, 0);
  return `${writes.toFixed(2)} writes/pod [${rows.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}]`;
}

/** The syncer's phase medians (`vcluster_syncer_phase_seconds`, quantile 0.5) of one kind, in ms, by `phase` or `phase/action`. */
async function phaseMedians(port: number, kind: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const medians = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('vcluster_syncer_phase_seconds{')) continue;
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    if (label('quantile') !== '0.5' || label('kind') !== kind) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value))
      medians.set([label('phase'), label('action')].filter(Boolean).join('/'), value * 1000);
  }
  return medians;
}

/** The phases of a new pod's way to the host, in order, as the syncer labels them; then those after. */
const POD_PHASES = [
  ['queue/create', 'queue wait'],
  ['references', 'referenced objects'],
  ['token', 'virtual token request'],
  ['host-create', 'host create'],
  ['reconcile/create', 'whole create reconcile'],
  ['binding', 'virtual binding'],
  ['status', 'virtual status write'],
] as const;

/** Creates pods one at a time, each after the last reached the host: the latency of a lone pod. */
async function singlePodLatencies(
  virtualClients: KubeClients,
  hostAdds: { seen: Map<string, number> },
  count: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = `single-${i}`;
    await virtualClients.core.createNamespacedPod({ namespace: 'default', body: podBody(name) });
    const answered = performance.now();
    await waitUntil(async () => hostAdds.seen.has(name) || undefined, {
      what: `host pod of ${name}`,
      timeoutMs: 60_000,
      intervalMs: 2,
    });
    latencies.push(hostAdds.seen.get(name)! - answered);
  }
  return latencies;
}

interface RunResult {
  n: number;
  directSeconds: number;
  directRunningSeconds: number;
  /** Until the virtual API server answered the burst of creates. */
  virtualCreateSeconds: number;
  syncedSeconds: number;
  runningSeconds: number;
  p50: number;
  p99: number;
  rss: number;
  /** Median ms per phase of the burst's pods, as the syncer measured them. */
  phases: Map<string, number>;
  /** Median ms of one pod created alone → its host pod. */
  singleP50: number;
}

async function runOnce(host: Cluster, n: number): Promise<RunResult> {
  const hostClients = kubeClients(host.kubeconfig);
  const id = `${n}-${Date.now().toString(36)}`;
  const directNs = `direct-${id}`;
  const syncNs = `vcluster-bench-${id}`;
  for (const namespace of [directNs, syncNs]) {
    await hostClients.core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitUntil(() => hostClients.core.readNamespacedServiceAccount({ name: 'default', namespace }), {
      what: 'default service account',
    });
  }

  // The API server's own limit: the same pods created directly in a host namespace by a plain client.
  const directRequests = await apiRequests(hostClients.config);
  const directStarted = performance.now();
  await createPods(hostClients, directNs, n, 'direct');
  const directSeconds = (performance.now() - directStarted) / 1000;
  // Also until the host has scheduled and (kwok) started them all: the same end point as "all Running" below.
  await waitUntil(
    async () => {
      const pods = await hostClients.core.listNamespacedPod({ namespace: directNs });
      return pods.items.filter((p) => p.status?.phase === 'Running').length >= n || undefined;
    },
    { what: `${n} running direct pods`, timeoutMs: 600_000, intervalMs: 250 },
  );
  const directRunningSeconds = (performance.now() - directStarted) / 1000;
  console.log(`N=${n} direct, host API: ${perPod(directRequests, await apiRequests(hostClients.config), n)}`);
  await hostClients.core.deleteNamespace({ name: directNs });
  // The host deletes those pods one by one (kwok finishes each): let it finish, so the synced run
  // below does not share the host API server with 1000 deletions the direct run never had to pay.
  await waitUntil(() => isGone(() => hostClients.core.readNamespace({ name: directNs })), {
    what: `namespace ${directNs} gone`,
    timeoutMs: 600_000,
    intervalMs: 250,
  });

  const virtual = await startCluster({ mode: 'virtual', name: `bench-${id}`, binaries: host.binaries });
  const virtualClients = kubeClients(virtual.kubeconfig);
  const dir = await mkdtemp(join(tmpdir(), 'vcp-bench-'));
  writeFileSync(join(dir, 'host'), host.kubeconfig);
  writeFileSync(join(dir, 'virtual'), virtual.kubeconfig);
  const port = await freePort();
  // Node refuses --cpu-prof in NODE_OPTIONS: it goes on the command line.
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  // The syncer's log is kept (its path is printed): a burst that stalls fails with its last lines.
  const syncer = new ManagedProcess({
    name: 'syncer',
    command: process.execPath,
    args: [
      ...profile,
      cli,
      'syncer',
      '--name=bench',
      `--host-namespace=${syncNs}`,
      `--host-kubeconfig=${join(dir, 'host')}`,
      `--virtual-kubeconfig=${join(dir, 'virtual')}`,
      `--health-port=${port}`,
      // To compare worker counts: BENCH_SYNCER_WORKERS=64 (default: the syncer's own).
      ...(process.env.BENCH_SYNCER_WORKERS ? [`--workers=${process.env.BENCH_SYNCER_WORKERS}`] : []),
    ],
    logFile: join(dir, 'syncer.log'),
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  console.log(`N=${n} syncer log: ${syncer.logFile}`);
  const orSyncerLog = (error: unknown): never => {
    const exited = syncer.hasExited ? ' (the syncer exited)' : '';
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}${exited}; the syncer's last lines (${syncer.logFile}):\n${syncer.logTail(30)}`,
    );
  };
  try {
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
      what: 'syncer ready',
    }).catch(orSyncerLog);
    const hostAdds = watchAdds(
      hostClients,
      syncNs,
      (pod) => pod.metadata?.annotations?.['vcluster.loft.sh/object-name'],
    );
    const hostRequests = await apiRequests(hostClients.config);
    const virtualRequests = await apiRequests(virtualClients.config);
    const started = performance.now();
    const created = await createPods(virtualClients, 'default', n, 'pod');
    // The synced pods cannot reach the host faster than the virtual API server takes their creates.
    const virtualCreateSeconds = (performance.now() - started) / 1000;
    console.log(`N=${n} virtual creates answered in ${virtualCreateSeconds.toFixed(2)} s`);
    await waitUntil(async () => hostAdds.seen.size >= n || undefined, {
      what: `${n} host pods`,
      timeoutMs: 600_000,
      intervalMs: 50,
    }).catch(orSyncerLog);
    const syncedSeconds = (performance.now() - started) / 1000;
    await waitUntil(
      async () => {
        const pods = await virtualClients.core.listNamespacedPod({ namespace: 'default' });
        return pods.items.filter((p) => p.status?.phase === 'Running').length >= n || undefined;
      },
      { what: `${n} running virtual pods`, timeoutMs: 600_000, intervalMs: 500 },
    ).catch(orSyncerLog);
    const runningSeconds = (performance.now() - started) / 1000;
    const rss = rssMiB([syncer.pid]);
    const phases = await phaseMedians(port, 'Pod');
    console.log(`N=${n} synced, host API: ${perPod(hostRequests, await apiRequests(hostClients.config), n)}`);
    console.log(
      `N=${n} synced, virtual API: ${perPod(virtualRequests, await apiRequests(virtualClients.config), n)}`,
    );
    const single = await singlePodLatencies(virtualClients, hostAdds, SINGLE_PODS).catch(orSyncerLog);
    await hostAdds.stop();
    // Latency per pod: the create answered by the virtual API server → the host pod's ADDED event.
    const latencies = [...created].map(([name, at]) => (hostAdds.seen.get(name) ?? at) - at);
    return {
      n,
      directSeconds,
      directRunningSeconds,
      virtualCreateSeconds,
      syncedSeconds,
      runningSeconds,
      p50: median(latencies),
      p99: percentile(latencies, 99),
      rss,
      phases,
      singleP50: median(single),
    };
  } finally {
    await syncer.stop();
    await virtual.stop();
    await hostClients.core.deleteNamespace({ name: syncNs }).catch(() => {});
  }
}

/** This section's figures before the work on issue #14 (2026-11-27, the same bench without the phase metrics), for comparison. */
const BEFORE = [
  'Before (2026-11-27 13:34 UTC, same machine, before the changes of issue #14):',
  '',
  '| N | direct s | virtual creates s | ceiling | synced s | synced/direct | synced/ceiling | p50 ms | p99 ms | syncer RSS MiB |',
  '|---|---|---|---|---|---|---|---|---|---|',
  '| 100 | 0.46 | 0.30 | 1.53 | 1.64 | 0.28 | 0.18 | 659 | 1498 | 133 |',
  '| 1000 | 2.30 | 4.88 | 0.47 | 11.42 | 0.20 | 0.43 | 5225 | 11175 | 162 |',
].join('\n');

/** Burst of N virtual pods through the syncer, against the same N pods created directly on the host. */
export async function benchSyncer(sizes = (process.env.BENCH_SYNCER_N ?? '100,1000').split(',').map(Number)) {
  const binaries = await ensureBinaries((m) => console.log(m));
  const nodes = Math.ceil((Math.max(...sizes) * 1.2) / 110);
  const host = await startCluster({ mode: 'host', name: 'bench-host', nodes, binaries });
  const rows: string[] = [];
  const phaseRows: string[] = [];
  try {
    for (const n of sizes) {
      const r = await runOnce(host, n);
      const ratio = r.directSeconds / r.syncedSeconds;
      const ofCeiling = r.virtualCreateSeconds / r.syncedSeconds;
      const phase = (key: string) => {
        const ms = r.phases.get(key);
        return ms === undefined ? '–' : ms.toFixed(ms < 10 ? 1 : 0);
      };
      console.log(
        `N=${n} where a pod's time goes (median ms): ${POD_PHASES.map(([k, what]) => `${what} ${phase(k)}`).join(', ')}`,
      );
      phaseRows.push(
        `| ${n} | ${POD_PHASES.map(([k]) => phase(k)).join(' | ')} | ${r.p50.toFixed(0)} | ${r.singleP50.toFixed(0)} |`,
      );
      console.log(
        `N=${n}: direct ${r.directSeconds.toFixed(2)} s, synced ${r.syncedSeconds.toFixed(2)} s (${ratio.toFixed(2)}x, ${ofCeiling.toFixed(2)} of the ceiling), running ${r.runningSeconds.toFixed(2)} s, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, RSS ${r.rss.toFixed(0)} MiB`,
      );
      rows.push(
        `| ${n} | ${r.directSeconds.toFixed(2)} | ${(n / r.directSeconds).toFixed(0)} | ${r.virtualCreateSeconds.toFixed(2)} | ${(r.directSeconds / r.virtualCreateSeconds).toFixed(2)} | ${r.syncedSeconds.toFixed(2)} | ${(n / r.syncedSeconds).toFixed(0)} | ${ratio.toFixed(2)} | ${ofCeiling.toFixed(2)} | ${r.directRunningSeconds.toFixed(2)} | ${r.runningSeconds.toFixed(2)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.rss.toFixed(0)} |`,
      );
    }
  } finally {
    await host.stop();
  }
  writeSection(
    'syncer',
    [
      `N pods created in a burst (32 requests in flight) in the virtual cluster; the syncer runs as its own process (\`vcluster-preview syncer\`). "direct" creates the same N pods in a host namespace with a plain client: the API server's own rate on this machine. Host: ${nodes} kwok nodes.`,
      '"virtual creates s": until the virtual API server answered the N creates of the burst; "ceiling" = direct s / that, the best synced/direct any syncer could reach here (a host pod cannot exist before its virtual pod).',
      'Latency: virtual create answered → host pod ADDED on a host watch. Targets: throughput ≥ 0.8× direct, p99 < 250 ms at N=1000, RSS < 200 MB.',
      '',
      `Load average when the run ended: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')} (other work on the machine shares its ${cpus().length} cores).`,
      '',
      '| N | direct s | direct pods/s | virtual creates s | ceiling | synced s | synced pods/s | synced/direct | synced/ceiling | direct all Running s | synced all Running s | p50 ms | p99 ms | syncer RSS MiB |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Where each pod's time goes: medians in ms over the burst's pods, as the syncer measured them (\`vcluster_syncer_phase_seconds\` on its /metrics). "queue wait": the virtual pod's event → a worker takes it; the next three are the calls before the host pod exists, the whole create reconcile contains them; binding and status are written back once the host pod is scheduled. "lone pod p50": ${SINGLE_PODS} pods created one at a time after the burst, virtual create answered → host pod ADDED (target ≤ 50 ms).`,
      '',
      `| N | ${POD_PHASES.map(([, what]) => what).join(' | ')} | burst p50 ms | lone pod p50 ms |`,
      `|---|${POD_PHASES.map(() => '---|').join('')}---|---|`,
      ...phaseRows,
      '',
      BEFORE,
    ].join('\n'),
  );
}
