import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'vitest';
import type { TestProject } from 'vitest/node';
import { type LocalRedis, startLocalRedis } from '../../cli/local-redis.ts';
import { ensureBuilt } from '../../controlplane/build.mjs';
import { type Cluster, ensureBinaries, freePort, startCluster } from '../../controlplane/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig (YAML) of the shared host cluster: etcd, apiserver, controllers, scheduler, kwok. */
    hostKubeconfig: string;
    /** Folder of the cached control-plane binaries (kubectl, helm, …). */
    binDir: string;
    redisUrl: string;
    /**
     * Admin kubeconfig of the shared real-node host cluster: a real node (kubelet, containerd) that
     * runs real containers, the local registry its images come from, and an ingress controller.
     */
    realHostKubeconfig: string;
    /** Where that cluster's ingress controller serves Ingresses, e.g. `http://127.0.0.1:41234`. */
    ingressUrl: string;
    /** That ingress controller's Prometheus metrics (requests per preview). */
    ingressMetricsUrl: string;
    /** That cluster's addresses (pod and Service ranges, the API server as pods see it). */
    realNode: {
      podCIDR: string;
      serviceCIDR: string;
      kubernetesServiceIP: string;
      /** This machine as the node's pods reach it (the machine's end of the veth pair). */
      hostIP: string;
      registry: string;
      /** The node's network namespace and containerd socket, to check what it runs and keeps. */
      netns: string;
      containerdSocket: string;
    };
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
  const ingressListen = `127.0.0.1:${await freePort()}`;
  const started = await Promise.allSettled([
    startCluster({ mode: 'host', name: 'test-host', nodes: 2, binaries, report: log }),
    // Real containers: no kwok node, so every pod runs for real.
    startCluster({
      mode: 'host',
      name: 'test-real',
      nodes: 0,
      binaries,
      realNode: { ingressListen },
      report: log,
    }),
    process.env.REDIS_URL ? Promise.resolve(undefined) : startLocalRedis(),
  ]);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    // What did start is stopped: a real node left running would hold its network namespace.
    await Promise.all(
      started.map((result) => (result.status === 'fulfilled' ? result.value?.stop() : undefined)),
    );
    throw failed.reason;
  }
  const [host, realHost, redis] = started.map(
    (result) => (result as PromiseFulfilledResult<unknown>).value,
  ) as [Cluster, Cluster, LocalRedis | undefined];
  const node = realHost.realNode!;
  project.provide('hostKubeconfig', host.kubeconfig);
  project.provide('realHostKubeconfig', realHost.kubeconfig);
  project.provide('ingressUrl', node.ingressUrl);
  project.provide('ingressMetricsUrl', node.ingressMetricsUrl);
  project.provide('realNode', {
    podCIDR: node.addresses.podCIDR,
    serviceCIDR: node.addresses.serviceCIDR,
    kubernetesServiceIP: node.addresses.kubernetesServiceIP,
    hostIP: node.addresses.hostIP,
    registry: node.registry,
    netns: node.addresses.netns,
    containerdSocket: node.containerdSocket,
  });
  project.provide('binDir', binaries.binDir);
  project.provide('redisUrl', process.env.REDIS_URL ?? redis!.url);
  return async () => {
    await Promise.all([host.stop(), realHost.stop(), redis?.stop()]);
    await rm(runTmp, { recursive: true, force: true });
  };
}
