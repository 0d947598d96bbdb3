import { benchControlPlane } from './controlplane.ts';
import { benchE2e } from './e2e.ts';
import { benchSyncer } from './syncer.ts';
import { benchVirtualClusters } from './vcluster.ts';

/** `npm run bench [name…]`: runs the named benchmarks (default all) and updates bench/RESULTS.md. */
const benchmarks: Record<string, () => Promise<void>> = {
  controlplane: () => benchControlPlane(),
  syncer: () => benchSyncer(),
  vcluster: () => benchVirtualClusters(),
  e2e: () => benchE2e(),
};

const wanted = process.argv.slice(2);
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  const bench = benchmarks[name];
  if (!bench) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(benchmarks).join(', ')}`);
    process.exit(2);
  }
  await bench();
}
