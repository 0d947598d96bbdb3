import type { ClusterMode } from '../controlplane/index.ts';
import { ensureBinaries, startCluster } from '../controlplane/index.ts';
import { median, rssMiB, writeSection } from './results.ts';

/** Start-to-ready time and idle memory of a host and a virtual cluster, median of several starts. */
export async function benchControlPlane(runs = Number(process.env.BENCH_RUNS ?? 5)): Promise<void> {
  const binaries = await ensureBinaries((m) => console.log(m));
  const rows: string[] = [];
  for (const mode of ['virtual', 'host'] as ClusterMode[]) {
    const times: number[] = [];
    const memory: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const cluster = await startCluster({ mode, name: `bench-${mode}-${i}`, nodes: 2, binaries });
      times.push((performance.now() - started) / 1000);
      // Idle memory a moment after ready, once the controllers' first sync is done.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      memory.push(rssMiB(cluster.processes.map((p) => p.pid)));
      await cluster.stop();
      console.log(
        `${mode} #${i + 1}: ready in ${times.at(-1)!.toFixed(2)} s, RSS ${memory.at(-1)!.toFixed(0)} MiB`,
      );
    }
    rows.push(
      `| ${mode} | ${runs} | ${median(times).toFixed(2)} | ${Math.min(...times).toFixed(2)} | ${Math.max(...times).toFixed(2)} | ${median(memory).toFixed(0)} |`,
    );
  }
  writeSection(
    'controlplane',
    [
      'Start to ready (`/readyz` and the default service account), and resident memory of all its processes 3 s after (virtual: one `vcontrolplane` process; host: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok).',
      'Targets: virtual mode ready in under 5 s with under 400 MB RSS.',
      '',
      '| mode | starts | median s | min s | max s | median RSS MiB |',
      '|---|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  );
}
