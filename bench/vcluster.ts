import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, pidsMentioning, startCluster } from '../controlplane/index.ts';
import { localProvider } from '../preview/providers/local/provider.ts';
import { readRunnerState } from '../preview/providers/local/state.ts';
import { realNodeMemoryRows } from './real-node-memory.ts';
import { median, rssMiB, writeSection } from './results.ts';

/** Create-to-ready time and idle memory of local virtual clusters: one at a time, then ten at once. */
export async function benchVirtualClusters(runs = Number(process.env.BENCH_RUNS ?? 5)): Promise<void> {
  const binaries = await ensureBinaries((m) => console.log(m));
  const host = await startCluster({ mode: 'host', name: 'bench-vc-host', nodes: 2, binaries });
  const stateRoot = await mkdtemp(join(tmpdir(), 'vcp-bench-vc-'));
  const provider = localProvider({ hostKubeconfig: host.kubeconfig, stateRoot });
  const lines: string[] = [];
  // Other work on the machine slows creates and the servers' start: recorded beside the figures.
  const load = loadavg()[0]!;
  // The runner (the Node process with the syncer) apart from the control plane's Go servers.
  const runnerMiB = (name: string) =>
    rssMiB([readRunnerState(join(stateRoot, `vcluster-${name}--${name}`))?.pid ?? -1]);
  try {
    const times: number[] = [];
    const memory: number[] = [];
    const runnerMemory: number[] = [];
    for (let i = 0; i < runs; i++) {
      const name = `bench-${i}`;
      const started = performance.now();
      await provider.create({ name });
      times.push((performance.now() - started) / 1000);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      memory.push(rssMiB(pidsMentioning(join(stateRoot, `vcluster-${name}--${name}`))));
      runnerMemory.push(runnerMiB(name));
      await provider.delete({ name });
      console.log(
        `#${i + 1}: ready in ${times.at(-1)!.toFixed(2)} s, idle RSS ${memory.at(-1)!.toFixed(0)} MiB (runner ${runnerMemory.at(-1)!.toFixed(0)})`,
      );
    }
    lines.push(
      `| one at a time | ${runs} | ${median(times).toFixed(2)} (min ${Math.min(...times).toFixed(2)}, max ${Math.max(...times).toFixed(2)}) | ${median(memory).toFixed(0)} per cluster | ${median(runnerMemory).toFixed(0)} |`,
    );

    const names = Array.from({ length: 10 }, (_, i) => `many-${i}`);
    const started = performance.now();
    await Promise.all(names.map((name) => provider.create({ name })));
    const allReady = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const total = rssMiB(pidsMentioning(stateRoot));
    const runners = names.reduce((sum, name) => sum + runnerMiB(name), 0);
    console.log(
      `10 at once: all ready in ${allReady.toFixed(2)} s, total RSS ${total.toFixed(0)} MiB (runners ${runners.toFixed(0)})`,
    );
    lines.push(
      `| 10 at once | 1 | ${allReady.toFixed(2)} (all ready) | ${total.toFixed(0)} total (${(total / 10).toFixed(0)} each) | ${(runners / 10).toFixed(0)} each |`,
    );
    await Promise.all(names.map((name) => provider.delete({ name })));
  } finally {
    await host.stop();
  }
  const realNode = await realNodeMemoryRows(binaries);
  writeSection(
    'vcluster',
    [
      'Local provider: `create` (host namespace, isolation objects, control plane + syncer process) until it serves, and the resident memory of its processes (the runner with the syncer, and the control plane: one `vcontrolplane` process with etcd, kube-apiserver and kube-controller-manager) 3 s later, idle; "runner" is the Node process alone (compiled JavaScript from dist/).',
      `Targets: create-to-ready under 8 s, an idle virtual cluster under 350 MB RSS. Load average when it started: ${load.toFixed(1)}.`,
      '',
      '| run | creates | seconds to ready (median) | RSS MiB | runner RSS MiB |',
      '|---|---|---|---|---|',
      ...lines,
      ...realNode,
    ].join('\n'),
  );
}
