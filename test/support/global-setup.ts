import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureBuilt } from '../../cli/build.mjs';
import { startLocalRedis } from '../../cli/local-redis.ts';
import { ensureBinaries, startCluster } from '../../controlplane/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig (YAML) of the shared host cluster: etcd, apiserver, controllers, scheduler, kwok. */
    hostKubeconfig: string;
    /** Folder of the cached control-plane binaries (kubectl, helm, …). */
    binDir: string;
    redisUrl: string;
  }
}

/** One real host cluster and one real Redis for the whole integration run, stopped at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (message: string) => console.log(`[global-setup] ${message}`);
  // Every temporary folder of the run (the tests', and those of the processes they start) goes in one
  // folder, removed at the end: set before the test workers start, which inherit it.
  const runTmp = await mkdtemp(join(tmpdir(), 'vcp-test-run-'));
  process.env.TMPDIR = runTmp;
  const binaries = await ensureBinaries(log);
  // Tests start the CLI and the local runner as processes, from dist/: compiled once here (when a
  // source changed) rather than by several of those processes at once, inside a test's timeout.
  await ensureBuilt();
  const [host, redis] = await Promise.all([
    startCluster({ mode: 'host', name: 'test-host', nodes: 2, binaries, report: log }),
    process.env.REDIS_URL ? Promise.resolve(undefined) : startLocalRedis(),
  ]);
  project.provide('hostKubeconfig', host.kubeconfig);
  project.provide('binDir', binaries.binDir);
  project.provide('redisUrl', process.env.REDIS_URL ?? redis!.url);
  return async () => {
    await Promise.all([host.stop(), redis?.stop()]);
    await rm(runTmp, { recursive: true, force: true });
  };
}
