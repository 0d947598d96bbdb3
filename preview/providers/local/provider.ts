import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Namespace } from '@kubernetes/client-node';
import { isAlive, pidsMentioning } from '../../../controlplane/index.ts';
import { applyObjects } from '../../../kube/apply.ts';
import { ignoreNotFound, type KubeClients, kubeClients } from '../../../kube/client.ts';
import { mergePatch } from '../../../kube/patch.ts';
import { deletePodsAndWait } from '../../../kube/pods.ts';
import { waitUntil } from '../../../kube/wait.ts';
import type { VolumeFenceOptions } from '../../../syncer/policy/volume-fence.ts';
import { isolationObjects } from '../../isolation.ts';
import {
  annotations,
  type CreateOptions,
  labels,
  namespaceFor,
  VirtualClusterError,
  type VirtualClusterInfo,
  type VirtualClusterProvider,
  type VirtualClusterRef,
  type VirtualClusterState,
  validateName,
} from '../../provider.ts';
import { detectServiceCIDR } from '../../service-cidr.ts';
import {
  clusterStateDir,
  type LocalClusterConfig,
  localStateRoot,
  paths,
  readConfig,
  readRunnerState,
  syncerSettingsChanged,
  writeConfig,
} from './state.ts';

export interface LocalProviderOptions {
  /** Host cluster admin kubeconfig (YAML). */
  hostKubeconfig: string;
  /** Where state folders go (default `~/.local/state/vcluster-preview/vclusters`). */
  stateRoot?: string;
  /** How long to wait for a virtual cluster to serve (default 120 s). */
  readyTimeoutMs?: number;
  /** IngressClass of every preview's host Ingresses (the operator's); unset, the host's default. */
  ingressClassName?: string;
  /** CSI drivers and storage classes previews' pods may use (the operator's). */
  volumeFence?: VolumeFenceOptions;
  /**
   * Space quota of each virtual cluster's etcd in bytes (default 256 MiB): a tenant is cluster-admin
   * of its virtual cluster and may write any number of objects there that never reach the host's
   * quota; past this its API server refuses writes, and only its own cluster is stopped.
   */
  storeQuotaBytes?: number;
}

export const DEFAULT_STORE_QUOTA_BYTES = 256 * 1024 ** 2;

const runnerEntry = join(dirname(fileURLToPath(import.meta.url)), 'runner-entry.js');

/**
 * How the runner's Node starts. It lives as long as the virtual cluster and mostly waits on
 * watches, so it trades a little CPU in bursts for memory:
 * - a young generation of at most 1 MB: it otherwise grows to 32 MB while the control plane starts
 *   and stays that size while idle;
 * - one V8 helper thread, two libuv threads and two malloc arenas: each idle thread otherwise keeps
 *   freed memory in an arena of its own.
 * Together 108-114 → 84-88 MiB of RSS 3 s after ready (idle cluster; no change in time to ready
 * measurable on these machines).
 */
const runnerNodeFlags = ['--max-semi-space-size=1', '--v8-pool-size=1'];
const runnerEnv = { MALLOC_ARENA_MAX: '2', UV_THREADPOOL_SIZE: '2' };
const fieldManager = 'vcluster-preview';

/**
 * Virtual clusters as processes on this machine (control plane from `controlplane/` plus the
 * syncer), against any host cluster. The host namespace's labels say what exists; a state folder
 * holds the control plane's data, so a restarted worker re-attaches to what is there.
 */
export function localProvider(options: LocalProviderOptions): VirtualClusterProvider {
  const host = kubeClients(options.hostKubeconfig);
  const root = options.stateRoot ?? localStateRoot();
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const stateDir = (name: string, namespace: string) => clusterStateDir(root, namespace, name);

  const readNamespace = async (name: string): Promise<V1Namespace | undefined> => {
    try {
      return await host.core.readNamespace({ name });
    } catch (error) {
      return ignoreNotFound(error);
    }
  };

  const setState = (namespace: string, state: VirtualClusterState) =>
    host.core.patchNamespace(
      { name: namespace, body: { metadata: { annotations: { [annotations.state]: state } } } },
      mergePatch,
    );

  const info = (namespace: V1Namespace): VirtualClusterInfo => {
    const meta = namespace.metadata ?? {};
    const name = meta.labels?.[labels.vcluster] ?? '';
    let state = (meta.annotations?.[annotations.state] ?? 'creating') as VirtualClusterState;
    // The namespace says running, but no process serves it: it crashed or the machine restarted.
    if (state === 'running' && !isAlive(readRunnerState(stateDir(name, meta.name ?? ''))?.pid))
      state = 'failed';
    return {
      name,
      namespace: meta.name ?? '',
      provider: 'local',
      state,
      createdAt: meta.annotations?.[annotations.createdAt],
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
    };
  };

  /** Starts the background process (unless one serves already) and waits until it is ready. */
  const startRunner = async (name: string, namespace: string, report: (m: string) => void) => {
    const dir = stateDir(name, namespace);
    const current = readRunnerState(dir);
    if (current?.ready && isAlive(current.pid)) return;
    if (!isAlive(current?.pid)) {
      await rm(paths(dir).runner, { force: true });
      const log = openSync(paths(dir).log, 'a');
      const child = spawn(process.execPath, [...runnerNodeFlags, runnerEntry, dir], {
        detached: true,
        stdio: ['ignore', log, log],
        // What the caller set explicitly (e.g. MALLOC_ARENA_MAX) wins over these defaults.
        env: { ...runnerEnv, ...process.env },
      });
      child.unref();
      report(`started virtual control plane and syncer (pid ${child.pid})`);
    }
    await waitUntil(
      async () => {
        const state = readRunnerState(dir);
        if (state?.error)
          throw new VirtualClusterError(`virtual cluster ${name} failed to start: ${state.error}`);
        if (state && !state.ready && !isAlive(state.pid)) {
          throw new VirtualClusterError(
            `virtual cluster ${name} exited while starting:\n${logTail(paths(dir).log)}`,
          );
        }
        return state?.ready;
      },
      {
        what: `virtual cluster ${name} to serve (log: ${paths(dir).log})`,
        timeoutMs: readyTimeoutMs,
        intervalMs: 100,
      },
    ).catch((error: Error) => {
      throw error instanceof VirtualClusterError ? error : new VirtualClusterError(error.message);
    });
  };

  const stopRunner = async (name: string, namespace: string) => {
    const dir = stateDir(name, namespace);
    const state = readRunnerState(dir);
    if (state && isAlive(state.pid)) {
      process.kill(state.pid, 'SIGTERM');
      await waitUntil(async () => !isAlive(state.pid), {
        what: 'the runner to stop',
        timeoutMs: 30_000,
      }).catch(() => process.kill(state.pid, 'SIGKILL'));
    }
    // A runner killed hard leaves its servers behind: anything still running from its folder goes.
    killProcessesUsing(dir);
  };

  const provider: VirtualClusterProvider = {
    name: 'local',

    async create(createOptions: CreateOptions) {
      const report = createOptions.report ?? (() => {});
      validateName(createOptions.name);
      const name = createOptions.name;
      const namespace = namespaceFor(createOptions);
      validateName(namespace, 'namespace');
      const existing = await readNamespace(namespace);
      if (existing && existing.metadata?.labels?.[labels.vcluster] !== name) {
        throw new VirtualClusterError(
          `namespace ${namespace} exists and is not managed by vcluster-preview for "${name}"; choose another namespace with -n`,
        );
      }
      if (existing?.metadata?.deletionTimestamp) {
        throw new VirtualClusterError(`namespace ${namespace} is being deleted; try again when it is gone`);
      }
      if (existing) {
        // A create for what exists updates its marks (e.g. the commit a preview now runs), as the
        // kubernetes provider does.
        await host.core.patchNamespace(
          {
            name: namespace,
            body: {
              metadata: { labels: createOptions.labels ?? {}, annotations: createOptions.annotations ?? {} },
            },
          },
          mergePatch,
        );
      } else {
        await host.core.createNamespace({
          body: {
            metadata: {
              name: namespace,
              labels: { ...createOptions.labels, [labels.vcluster]: name, [labels.provider]: 'local' },
              annotations: {
                ...createOptions.annotations,
                [annotations.state]: 'creating',
                [annotations.createdAt]: new Date().toISOString(),
                [annotations.createdNamespace]: 'true',
              },
            },
          },
        });
        report(`created host namespace ${namespace}`);
      }
      await applyObjects(host, isolationObjects(name, namespace, createOptions.isolation), fieldManager);
      const dir = stateDir(name, namespace);
      // The host's service range does not change: asked once per virtual cluster, not on every create.
      const known = await readConfig(dir).catch(() => undefined);
      const config: LocalClusterConfig = {
        name,
        namespace,
        hostKubeconfigPath: paths(dir).hostKubeconfig,
        serviceCIDR: known?.serviceCIDR ?? (await detectServiceCIDR(host.core, namespace)),
        allowedHostSuffix: createOptions.allowedHostSuffix,
        ...(options.ingressClassName ? { ingressClassName: options.ingressClassName } : {}),
        ...(options.volumeFence ? { volumeFence: options.volumeFence } : {}),
        storeQuotaBytes: options.storeQuotaBytes ?? DEFAULT_STORE_QUOTA_BYTES,
        podSecurityStandard: createOptions.isolation?.podSecurityStandard ?? 'baseline',
        networkPolicy: createOptions.isolation?.networkPolicy ?? true,
      };
      // A running syncer keeps the settings it started with (a pull request that now asks for
      // baseline, an operator's new storage classes): it starts again with the new ones.
      if (known && syncerSettingsChanged(known, config)) {
        report('syncer settings changed: restarting the virtual cluster');
        await stopRunner(name, namespace);
      }
      await writeConfig(dir, config);
      await writeFile(paths(dir).hostKubeconfig, options.hostKubeconfig, { mode: 0o600 });
      await startRunner(name, namespace, report);
      await setState(namespace, 'running');
      return info((await readNamespace(namespace))!);
    },

    async delete(ref: VirtualClusterRef) {
      const namespace = namespaceFor(ref);
      await stopRunner(ref.name, namespace);
      const existing = await readNamespace(namespace);
      if (existing && existing.metadata?.labels?.[labels.vcluster] === ref.name) {
        if (existing.metadata.annotations?.[annotations.createdNamespace] === 'true') {
          await deletePodsAndWait(host, namespace, 60_000);
          await host.core.deleteNamespace({ name: namespace }).catch((error) => {
            ignoreNotFound(error);
          });
          await waitUntil(async () => !(await readNamespace(namespace)), {
            what: `host namespace ${namespace} to be deleted`,
            timeoutMs: 120_000,
            intervalMs: 250,
          });
        } else {
          await deleteManagedObjects(host, namespace, ref.name);
        }
      }
      await rm(stateDir(ref.name, namespace), { recursive: true, force: true });
    },

    async pause(ref: VirtualClusterRef) {
      const namespace = namespaceFor(ref);
      const current = await provider.get(ref);
      if (!current) throw new VirtualClusterError(`virtual cluster ${ref.name} not found in ${namespace}`);
      await stopRunner(ref.name, namespace);
      // Like vcluster's sleep: the control plane and its data stay, the workloads stop.
      await host.core.deleteCollectionNamespacedPod({
        namespace,
        labelSelector: `vcluster.loft.sh/managed-by=${ref.name}`,
      });
      await setState(namespace, 'paused');
      return (await provider.get(ref))!;
    },

    async resume(ref: VirtualClusterRef) {
      const namespace = namespaceFor(ref);
      const current = await provider.get(ref);
      if (!current) throw new VirtualClusterError(`virtual cluster ${ref.name} not found in ${namespace}`);
      await startRunner(ref.name, namespace, () => {});
      await setState(namespace, 'running');
      return (await provider.get(ref))!;
    },

    async list() {
      const namespaces = await host.core.listNamespace({ labelSelector: `${labels.provider}=local` });
      return namespaces.items.map(info);
    },

    async get(ref: VirtualClusterRef) {
      const namespace = await readNamespace(namespaceFor(ref));
      if (!namespace || namespace.metadata?.labels?.[labels.vcluster] !== ref.name) return undefined;
      return info(namespace);
    },

    async kubeconfig(ref: VirtualClusterRef) {
      const dir = stateDir(ref.name, namespaceFor(ref));
      const state = readRunnerState(dir);
      if (!state?.ready || !isAlive(state.pid)) {
        throw new VirtualClusterError(
          `virtual cluster ${ref.name} is not running; resume it with \`vcluster-preview resume ${ref.name}\``,
        );
      }
      return readFile(paths(dir).kubeconfig, 'utf8');
    },

    async syncerLog(ref: VirtualClusterRef, count: number) {
      // The runner logs for the control plane and the syncer it runs in-process: one log.
      return tailLines(paths(stateDir(ref.name, namespaceFor(ref))).log, count) ?? [];
    },
  };
  return provider;
}

/** In a namespace we did not make, delete only what the syncer made there. */
async function deleteManagedObjects(host: KubeClients, namespace: string, name: string): Promise<void> {
  const labelSelector = `vcluster.loft.sh/managed-by=${name}`;
  await Promise.all([
    host.core.deleteCollectionNamespacedPod({ namespace, labelSelector }),
    host.core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector }),
    host.core.deleteCollectionNamespacedSecret({ namespace, labelSelector }),
    host.core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace, labelSelector }),
    host.networking.deleteCollectionNamespacedIngress({ namespace, labelSelector }),
  ]);
  const services = await host.core.listNamespacedService({ namespace, labelSelector });
  // And the Service pods reach the virtual API server through (its EndpointSlice goes with it).
  const apiServices = await host.core.listNamespacedService({
    namespace,
    labelSelector: `app.kubernetes.io/managed-by=vcluster-preview,${labels.vcluster}=${name}`,
  });
  for (const service of [...services.items, ...apiServices.items]) {
    await host.core.deleteNamespacedService({ name: service.metadata?.name ?? '', namespace });
  }
}

/** SIGKILLs every process whose command line names the folder (its servers and their data). */
function killProcessesUsing(dir: string): void {
  for (const pid of pidsMentioning(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

/** The last `count` lines of a log file, reading only its end (a runner's log grows for as long as it runs). */
function tailLines(file: string, count: number): string[] | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').trimEnd().split('\n');
    // The first line may be cut in the middle when the file was read from past its start.
    if (length < size) lines.shift();
    return lines.slice(-count);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function logTail(file: string): string {
  return tailLines(file, 20)?.join('\n') ?? '(no log)';
}
