import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CoreV1Event,
  RbacAuthorizationV1Api,
  type V1Namespace,
  type V1Pod,
} from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import {
  isAlreadyExists,
  isForbidden,
  isNotFound,
  type KubeClients,
  kubeClients,
  statusCodeOf,
} from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import { deletePodsAndWait } from '../../kube/pods.ts';
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
} from '../provider.ts';
import { detectServiceCIDR } from '../service-cidr.ts';

export interface KubernetesProviderOptions {
  /** Admin kubeconfig (YAML) of the host cluster the chart is installed into. */
  hostKubeconfig: string;
  /** Path of the helm binary (v3.13+ or v4). */
  helmBinary: string;
  /** The vcluster chart (default: `charts/vcluster` of this repository). */
  chartPath?: string;
  /** The host's Service IP range; detected from the host's API server when left out. */
  serviceCIDR?: string;
  /** How long create and resume wait for the control plane pod and the kubeconfig Secret (default 5 min). */
  readyTimeoutMs?: number;
  /** How long delete waits for the namespace to be gone (default 3 min). */
  deleteTimeoutMs?: number;
  /** Chart values for every virtual cluster (the per-cluster create options win over them). */
  values?: Record<string, unknown>;
  /** IngressClass of every preview's host Ingresses (the operator's; chart value `syncer.ingressClassName`). */
  ingressClassName?: string;
  /**
   * How the kubeconfig that `kubeconfig()` hands out reaches the virtual API server, which is
   * Service `<name>` (port 443) in the host namespace:
   * - `service`: `https://<name>.<namespace>.svc:443`, for a process in a pod of the host cluster
   *   (the service's worker in production);
   * - `cluster-ip`: `https://<the Service's ClusterIP>:443`, for a machine that routes the host's
   *   Service range: the embedded host's machine. Elsewhere, outside the cluster, port-forward
   *   (`kubectl port-forward svc/<name> 8443:443`) and use `https://localhost:8443`, as `vcluster
   *   connect` does; both names are in the API server's certificate;
   * - `secret`: the server the Secret `vc-<name>` names, unchanged: set it with the chart value
   *   `syncer.kubeconfigServer` in `values` (e.g. the host name of `exposure.ingress`).
   * Default: `service` inside a pod (`KUBERNETES_SERVICE_HOST` is set), `cluster-ip` elsewhere.
   * Unless `values` say otherwise, the Secret names the Service (`https://<name>.<namespace>.svc:443`),
   * so that other pods of the host can mount it as it is.
   */
  apiAccess?: ApiAccess;
}

export type ApiAccess = 'service' | 'cluster-ip' | 'secret';

/** Annotations vcluster's CLI puts on the control plane workload while it is paused. */
export const pauseAnnotations = {
  paused: 'loft.sh/paused',
  replicas: 'loft.sh/paused-replicas',
} as const;

/** Label the syncer puts on every host object it makes (pods included). */
export const managedByLabel = 'vcluster.loft.sh/managed-by';

const defaultChart = fileURLToPath(new URL('../../charts/vcluster', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Pure parts

/** The Secret the syncer writes the users' kubeconfig to. */
export const kubeconfigSecretName = (name: string) => `vc-${name}`;
/** The Secret the `pki` init container keeps the certificates in. */
export const pkiSecretName = (name: string) => `vc-${name}-pki`;
/** The chart's ClusterRole and ClusterRoleBinding (cluster-scoped, so not removed with the namespace). */
export const clusterRoleName = (name: string, namespace: string) => `vc-${name}-v-${namespace}`;
/** Selector of the control plane pod (the syncer renames `release` on the pods it makes). */
export const controlPlaneSelector = (name: string) => `app=vcluster,release=${name}`;
/** The chart's Service port of the API server. */
export const apiServicePort = 443;
/** The virtual API server as pods of the host cluster reach it: the chart's Service, by name. */
export const inClusterServer = (name: string, namespace: string) =>
  `https://${name}.${namespace}.svc:${apiServicePort}`;
/** The virtual API server at the Service's ClusterIP (brackets for IPv6). */
export const clusterIPServer = (clusterIP: string) =>
  `https://${clusterIP.includes(':') ? `[${clusterIP}]` : clusterIP}:${apiServicePort}`;

/** Where a process reaches the virtual API servers when `apiAccess` is not given. */
export function defaultApiAccess(env: NodeJS.ProcessEnv = process.env): ApiAccess {
  return env.KUBERNETES_SERVICE_HOST ? 'service' : 'cluster-ip';
}

/** A kubeconfig (YAML) with the server of every cluster replaced; everything else kept. */
export function kubeconfigWithServer(kubeconfig: string, server: string): string {
  const config = parse(kubeconfig) as { clusters?: { cluster?: { server?: string } }[] } | null;
  if (!config || !Array.isArray(config.clusters) || config.clusters.length === 0)
    throw new VirtualClusterError("the virtual cluster's kubeconfig has no clusters");
  for (const entry of config.clusters) entry.cluster = { ...entry.cluster, server };
  return stringify(config);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges `override` into `base` (objects recursively; arrays and scalars replaced), without mutating either. */
export function mergeValues(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isRecord(current) && isRecord(value) ? mergeValues(current, value) : value;
  }
  return merged;
}

/**
 * The chart values of one virtual cluster: the provider's values, then what the create options ask
 * for (isolation and the allowed ingress host suffix). Options left out keep the chart's defaults.
 */
export function renderValues(
  options: Pick<CreateOptions, 'isolation' | 'allowedHostSuffix'>,
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  const isolation: Record<string, unknown> = {};
  const { quota, networkPolicy, podSecurityStandard } = options.isolation ?? {};
  if (quota !== undefined) {
    isolation.resourceQuota = { enabled: quota };
    isolation.limitRange = { enabled: quota };
  }
  if (networkPolicy !== undefined) isolation.networkPolicy = { enabled: networkPolicy };
  if (podSecurityStandard !== undefined) isolation.podSecurityStandard = podSecurityStandard;
  const override: Record<string, unknown> = {};
  if (Object.keys(isolation).length > 0) override.isolation = isolation;
  if (options.allowedHostSuffix !== undefined)
    override.syncer = { allowedHostSuffix: options.allowedHostSuffix };
  return mergeValues(base, override);
}

/**
 * Everything the provider sets on a release: the users' kubeconfig Secret names the chart's Service
 * (which every pod of the host reaches; the provider's `values` may say otherwise), then the
 * provider's values, then what the create options ask for.
 */
export function chartValues(
  name: string,
  namespace: string,
  options: Pick<CreateOptions, 'isolation' | 'allowedHostSuffix'>,
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  const defaults = { syncer: { kubeconfigServer: inClusterServer(name, namespace) } };
  return renderValues(options, mergeValues(defaults, base));
}

/** `helm upgrade --install` arguments (the kubeconfig and values file paths are the caller's). */
export function helmInstallArgs(input: {
  name: string;
  namespace: string;
  chart: string;
  serviceCIDR: string;
  valuesFile: string;
}): string[] {
  return [
    'upgrade',
    '--install',
    input.name,
    input.chart,
    '--namespace',
    input.namespace,
    // helm splits --set on commas: a dual-stack range pair must keep its comma.
    '--set',
    `serviceCIDR=${input.serviceCIDR.replaceAll(',', '\\,')}`,
    '-f',
    input.valuesFile,
  ];
}

const states: readonly VirtualClusterState[] = ['creating', 'running', 'paused', 'failed'];

/** What a namespace made by this provider says about its virtual cluster. */
export function infoFromNamespace(namespace: V1Namespace): VirtualClusterInfo | undefined {
  const nsLabels = namespace.metadata?.labels ?? {};
  const name = nsLabels[labels.vcluster];
  if (!name || nsLabels[labels.provider] !== 'kubernetes') return undefined;
  const nsAnnotations = namespace.metadata?.annotations ?? {};
  const state = nsAnnotations[annotations.state] as VirtualClusterState | undefined;
  return {
    name,
    namespace: namespace.metadata?.name ?? '',
    provider: 'kubernetes',
    state: state && states.includes(state) ? state : 'creating',
    createdAt: nsAnnotations[annotations.createdAt],
    labels: nsLabels,
    annotations: nsAnnotations,
  };
}

/** One line about a pod that is not Ready: phase, failing conditions, waiting/terminated containers. */
export function describePod(pod: V1Pod): string {
  const parts = [`pod ${pod.metadata?.name} is ${pod.status?.phase ?? 'Unknown'}`];
  if (pod.metadata?.deletionTimestamp) parts.push('being deleted');
  if (!pod.spec?.nodeName) parts.push('not scheduled');
  for (const condition of pod.status?.conditions ?? []) {
    if (condition.status === 'True') continue;
    const why = [condition.reason, condition.message].filter(Boolean).join(': ');
    parts.push(`${condition.type}=${condition.status}${why ? ` (${why})` : ''}`);
  }
  for (const status of [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ]) {
    const waiting = status.state?.waiting;
    const terminated = status.state?.terminated;
    if (waiting)
      parts.push(`container ${status.name} waiting: ${waiting.reason ?? ''} ${waiting.message ?? ''}`.trim());
    else if (terminated && terminated.exitCode !== 0)
      parts.push(`container ${status.name} exited ${terminated.exitCode}: ${terminated.reason ?? ''}`.trim());
    if ((status.restartCount ?? 0) > 0)
      parts.push(`container ${status.name} restarted ${status.restartCount}×`);
  }
  return parts.join(', ');
}

export function isPodReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** The last few events, oldest first, as `Reason (Kind/name): message`. */
export function describeEvents(events: CoreV1Event[], limit = 8): string[] {
  const time = (e: CoreV1Event) =>
    new Date(
      e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? 0,
    ).getTime();
  return [...events]
    .sort((a, b) => time(a) - time(b))
    .slice(-limit)
    .map((e) =>
      `${e.type === 'Warning' ? 'Warning ' : ''}${e.reason ?? ''} (${e.involvedObject.kind}/${e.involvedObject.name}): ${e.message ?? ''}`.trim(),
    );
}

// ---------------------------------------------------------------------------------------------
// I/O

const run = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });

class HelmError extends Error {
  override name = 'HelmError';
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`helm ${args.slice(0, 3).join(' ')} failed: ${stderr.trim()}`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type WorkloadKind = 'StatefulSet' | 'Deployment';
interface Workload {
  kind: WorkloadKind;
  replicas: number;
  annotations: Record<string, string>;
}

/** Virtual clusters as releases of the `charts/vcluster` chart, one per host namespace. */
export function kubernetesProvider(options: KubernetesProviderOptions): VirtualClusterProvider {
  const host: KubeClients = kubeClients(options.hostKubeconfig);
  const rbac = host.config.makeApiClient(RbacAuthorizationV1Api);
  const chart = options.chartPath ?? defaultChart;
  const readyTimeoutMs = options.readyTimeoutMs ?? 5 * 60_000;
  const deleteTimeoutMs = options.deleteTimeoutMs ?? 3 * 60_000;
  const apiAccess = options.apiAccess ?? defaultApiAccess();

  /** Runs helm with the host kubeconfig (and extra files) in a private temporary folder. */
  async function helm(args: string[], files: Record<string, string> = {}): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'vcp-helm-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(kubeconfig, options.hostKubeconfig, { mode: 0o600 });
      const resolved = args.map((arg) => (arg.startsWith('@file:') ? join(dir, arg.slice(6)) : arg));
      for (const [file, content] of Object.entries(files)) {
        await writeFile(join(dir, file), content, { mode: 0o600 });
      }
      const { stdout } = await run(options.helmBinary, [...resolved, '--kubeconfig', kubeconfig], {
        ...process.env,
        KUBECONFIG: kubeconfig,
      }).catch((error: { stderr?: string; message: string; code?: unknown }) => {
        if (error.code === 'ENOENT') {
          throw new VirtualClusterError(
            `helm was not found at ${options.helmBinary}: install helm or build the project's binaries with "vcluster-preview host build"`,
          );
        }
        throw new HelmError(args, error.stderr || error.message);
      });
      return stdout;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function readNamespace(name: string): Promise<V1Namespace | undefined> {
    try {
      return await host.core.readNamespace({ name });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async function setState(namespace: string, state: VirtualClusterState): Promise<V1Namespace> {
    return host.core.patchNamespace(
      { name: namespace, body: { metadata: { annotations: { [annotations.state]: state } } } },
      mergePatch,
    );
  }

  async function readWorkload(name: string, namespace: string): Promise<Workload | undefined> {
    for (const kind of ['StatefulSet', 'Deployment'] as const) {
      try {
        const object =
          kind === 'StatefulSet'
            ? await host.apps.readNamespacedStatefulSet({ name, namespace })
            : await host.apps.readNamespacedDeployment({ name, namespace });
        return {
          kind,
          replicas: object.spec?.replicas ?? 1,
          annotations: object.metadata?.annotations ?? {},
        };
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return undefined;
  }

  async function patchWorkload(kind: WorkloadKind, name: string, namespace: string, body: object) {
    if (kind === 'StatefulSet')
      await host.apps.patchNamespacedStatefulSet({ name, namespace, body }, mergePatch);
    else await host.apps.patchNamespacedDeployment({ name, namespace, body }, mergePatch);
  }

  async function controlPlanePods(name: string, namespace: string): Promise<V1Pod[]> {
    const pods = await host.core.listNamespacedPod({ namespace, labelSelector: controlPlaneSelector(name) });
    return pods.items;
  }

  /** The virtual API server's URL as this process reaches it (see `apiAccess`). */
  async function serverFor(name: string, namespace: string): Promise<string> {
    if (apiAccess !== 'cluster-ip') return inClusterServer(name, namespace);
    let clusterIP: string | undefined;
    try {
      clusterIP = (await host.core.readNamespacedService({ name, namespace })).spec?.clusterIP;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!clusterIP || clusterIP === 'None') {
      throw new VirtualClusterError(
        `virtual cluster ${name} has no API Service with a ClusterIP (Service ${name} in namespace ${namespace}); delete it and create it again`,
      );
    }
    return clusterIPServer(clusterIP);
  }

  async function kubeconfigSecretHasConfig(name: string, namespace: string): Promise<boolean> {
    try {
      const secret = await host.core.readNamespacedSecret({ name: kubeconfigSecretName(name), namespace });
      return Boolean(secret.data?.config);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Why the control plane is not ready: pod status and the latest events of its objects. */
  async function diagnose(name: string, namespace: string, pods: V1Pod[]): Promise<string> {
    const lines: string[] = [];
    if (pods.length === 0) {
      const workload = await readWorkload(name, namespace).catch(() => undefined);
      lines.push(
        workload
          ? `no control plane pod exists (${workload.kind} ${name} wants ${workload.replicas} replica(s))`
          : `no control plane pod exists and there is no StatefulSet or Deployment ${name}`,
      );
    }
    for (const pod of pods) if (!isPodReady(pod)) lines.push(describePod(pod));
    const involved = new Set([name, `data-${name}-0`, ...pods.map((p) => p.metadata?.name ?? '')]);
    try {
      const events = await host.core.listNamespacedEvent({ namespace });
      const relevant = events.items.filter(
        (e) => involved.has(e.involvedObject.name ?? '') || e.involvedObject.name?.startsWith(`${name}-`),
      );
      const described = describeEvents(relevant);
      if (described.length > 0) lines.push(`events:\n    ${described.join('\n    ')}`);
    } catch {
      // Events help, but reading them must not hide the real error.
    }
    return lines.join('\n  ');
  }

  /** Waits for the control plane pod to be Ready and for the syncer's kubeconfig Secret. */
  async function waitReady(name: string, namespace: string, report: (message: string) => void) {
    const deadline = Date.now() + readyTimeoutMs;
    let podReady = false;
    let secretReady = false;
    let pods: V1Pod[] = [];
    let reportedPod = false;
    for (;;) {
      pods = await controlPlanePods(name, namespace);
      podReady = pods.some(isPodReady);
      secretReady = await kubeconfigSecretHasConfig(name, namespace);
      if (podReady && !reportedPod) {
        reportedPod = true;
        if (!secretReady)
          report(`control plane pod ready; waiting for the syncer to write Secret vc-${name}`);
      }
      if (podReady && secretReady) return;
      if (Date.now() >= deadline) break;
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    }
    const missing: string[] = [];
    if (!podReady) missing.push('its control plane pod is not Ready');
    if (!secretReady) {
      missing.push(
        `its syncer has not written the kubeconfig Secret ${kubeconfigSecretName(name)} (key "config") yet`,
      );
    }
    const details = await diagnose(name, namespace, pods);
    await setState(namespace, 'failed').catch(() => {});
    throw new VirtualClusterError(
      `virtual cluster ${name} in namespace ${namespace} is not ready after ${Math.round(readyTimeoutMs / 1000)}s: ${missing.join(' and ')}.` +
        (details ? `\n  ${details}` : '') +
        `\nLook at the pod with: kubectl -n ${namespace} describe pod -l ${controlPlaneSelector(name)}; kubectl -n ${namespace} logs -l ${controlPlaneSelector(name)} -c syncer`,
    );
  }

  /** helm upgrade --install; an earlier helm run that died midway (pending-*) is cleared first. */
  async function install(
    name: string,
    namespace: string,
    serviceCIDR: string,
    values: Record<string, unknown>,
  ) {
    const args = helmInstallArgs({ name, namespace, chart, serviceCIDR, valuesFile: '@file:values.yaml' });
    const files = { 'values.yaml': stringify(values) };
    try {
      await helm(args, files);
    } catch (error) {
      if (!(error instanceof HelmError) || !/another operation .* is in progress/.test(error.stderr)) {
        throw new VirtualClusterError(
          `installing the vcluster chart (release ${name} in namespace ${namespace}) failed: ${error instanceof HelmError ? error.stderr.trim() : String(error)}`,
        );
      }
      const status = JSON.parse(await helm(['status', name, '--namespace', namespace, '-o', 'json'])) as {
        info?: { status?: string };
        version?: number;
      };
      if (status.info?.status === 'pending-install') {
        await helm(['uninstall', name, '--namespace', namespace, '--ignore-not-found']);
      } else {
        await helm(['rollback', name, '--namespace', namespace]);
      }
      await helm(args, files);
    }
  }

  async function get(ref: VirtualClusterRef): Promise<VirtualClusterInfo | undefined> {
    const namespace = await readNamespace(namespaceFor(ref));
    const info = namespace && infoFromNamespace(namespace);
    return info?.name === ref.name ? info : undefined;
  }

  async function mustGet(ref: VirtualClusterRef): Promise<VirtualClusterInfo> {
    const info = await get(ref);
    if (!info) {
      throw new VirtualClusterError(
        `virtual cluster ${ref.name} not found in namespace ${namespaceFor(ref)}; check the name and the namespace (-n)`,
      );
    }
    return info;
  }

  /** Creates the namespace, or adopts one already labelled for this virtual cluster. */
  async function ensureNamespace(options: CreateOptions, namespace: string): Promise<V1Namespace> {
    const ours = {
      [labels.vcluster]: options.name,
      [labels.provider]: 'kubernetes',
    };
    const check = (existing: V1Namespace): V1Namespace => {
      const nsLabels = existing.metadata?.labels ?? {};
      if (nsLabels[labels.vcluster] !== options.name) {
        throw new VirtualClusterError(
          `namespace ${namespace} exists and is not managed by vcluster-preview for virtual cluster ${options.name}; choose another with -n`,
        );
      }
      const provider = nsLabels[labels.provider];
      if (provider && provider !== 'kubernetes') {
        throw new VirtualClusterError(
          `namespace ${namespace} holds virtual cluster ${options.name} of the ${provider} provider; delete it there first or choose another namespace with -n`,
        );
      }
      if (existing.status?.phase === 'Terminating' || existing.metadata?.deletionTimestamp) {
        throw new VirtualClusterError(
          `namespace ${namespace} is still being deleted (an earlier delete of ${options.name}); wait until it is gone and create again`,
        );
      }
      return existing;
    };

    const existing = await readNamespace(namespace);
    if (existing) {
      check(existing);
      const nsAnnotations = existing.metadata?.annotations ?? {};
      return host.core.patchNamespace(
        {
          name: namespace,
          body: {
            metadata: {
              labels: { ...options.labels, ...ours },
              annotations: {
                ...options.annotations,
                ...(nsAnnotations[annotations.createdAt]
                  ? {}
                  : { [annotations.createdAt]: new Date().toISOString() }),
              },
            },
          },
        },
        mergePatch,
      );
    }
    try {
      return await host.core.createNamespace({
        body: {
          metadata: {
            name: namespace,
            labels: { ...options.labels, ...ours },
            annotations: {
              ...options.annotations,
              [annotations.createdAt]: new Date().toISOString(),
              [annotations.createdNamespace]: 'true',
              [annotations.state]: 'creating',
            },
          },
        },
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      // Someone else made it meanwhile (another worker creating the same cluster, or a stranger).
      const raced = await readNamespace(namespace);
      if (!raced) throw error;
      return check(raced);
    }
  }

  return {
    name: 'kubernetes',

    async create(createOptions) {
      const report = createOptions.report ?? (() => {});
      const { name } = createOptions;
      validateName(name);
      const namespace = namespaceFor(createOptions);
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
        throw new VirtualClusterError(
          `namespace "${namespace}" is not valid: use at most 63 lowercase letters, digits and '-'`,
        );
      }

      report(`namespace ${namespace}`);
      const ns = await ensureNamespace(createOptions, namespace);
      const before = infoFromNamespace(ns);
      if (before?.state === 'paused') {
        report(`virtual cluster ${name} is paused; resume it to start it again`);
        return before;
      }
      if (before?.state === 'failed') await setState(namespace, 'creating');

      const serviceCIDR = options.serviceCIDR ?? (await detectServiceCIDR(host.core, namespace));
      report(`host service CIDR ${serviceCIDR}`);
      const values = chartValues(
        name,
        namespace,
        createOptions,
        options.ingressClassName
          ? mergeValues(options.values ?? {}, { syncer: { ingressClassName: options.ingressClassName } })
          : options.values,
      );
      report(`helm upgrade --install ${name} (namespace ${namespace})`);
      await install(name, namespace, serviceCIDR, values);

      report('waiting for the control plane pod and the kubeconfig Secret');
      await waitReady(name, namespace, report);
      const info = infoFromNamespace(await setState(namespace, 'running'));
      if (!info) throw new VirtualClusterError(`namespace ${namespace} lost its vcluster-preview labels`);
      report(`virtual cluster ${name} is running`);
      return info;
    },

    async delete(ref) {
      validateName(ref.name);
      const namespace = namespaceFor(ref);
      const existing = await readNamespace(namespace);
      const owner = existing?.metadata?.labels?.[labels.vcluster];
      if (existing && owner !== ref.name) {
        throw new VirtualClusterError(
          `namespace ${namespace} is not managed by vcluster-preview for virtual cluster ${ref.name}${owner ? ` (it holds ${owner})` : ''}; nothing was deleted`,
        );
      }

      if (existing) {
        await helm(['uninstall', ref.name, '--namespace', namespace, '--ignore-not-found']).catch((error) => {
          if (error instanceof HelmError && /not found/i.test(error.stderr)) return '';
          throw new VirtualClusterError(
            `helm uninstall ${ref.name} in namespace ${namespace} failed: ${error instanceof HelmError ? error.stderr.trim() : String(error)}`,
          );
        });
        const claims = await host.core.listNamespacedPersistentVolumeClaim({
          namespace,
          labelSelector: controlPlaneSelector(ref.name),
        });
        for (const claim of claims.items) {
          await host.core
            .deleteNamespacedPersistentVolumeClaim({ name: claim.metadata?.name ?? '', namespace })
            .catch((error) => {
              if (!isNotFound(error)) throw error;
            });
        }
      }

      // Cluster-scoped objects of the chart outlive the namespace: remove them even without a release.
      const clusterScoped = clusterRoleName(ref.name, namespace);
      for (const [read, remove] of [
        [
          () => rbac.readClusterRoleBinding({ name: clusterScoped }),
          () => rbac.deleteClusterRoleBinding({ name: clusterScoped }),
        ],
        [
          () => rbac.readClusterRole({ name: clusterScoped }),
          () => rbac.deleteClusterRole({ name: clusterScoped }),
        ],
      ] as const) {
        try {
          const object = (await read()) as { metadata?: { labels?: Record<string, string> } };
          if (object.metadata?.labels?.release === ref.name) await remove();
        } catch (error) {
          // An account that may not read them (the service chart's worker, whose previews are
          // installed without a ClusterRole) cannot have made them either.
          if (!isNotFound(error) && !isForbidden(error)) throw error;
        }
      }

      if (!existing) return;
      if (existing.metadata?.annotations?.[annotations.createdNamespace] === 'true') {
        if (!existing.metadata?.deletionTimestamp) {
          await deletePodsAndWait(host, namespace, deleteTimeoutMs);
          await host.core.deleteNamespace({ name: namespace }).catch((error) => {
            if (!isNotFound(error)) throw error;
          });
        }
        const deadline = Date.now() + deleteTimeoutMs;
        let last: V1Namespace | undefined = existing;
        while (last) {
          if (Date.now() >= deadline) {
            const conditions = (last.status?.conditions ?? [])
              .filter((c) => c.status === 'True')
              .map((c) => `${c.type}: ${c.message ?? c.reason ?? ''}`);
            throw new VirtualClusterError(
              `namespace ${namespace} of virtual cluster ${ref.name} is still terminating after ${Math.round(deleteTimeoutMs / 1000)}s` +
                (conditions.length > 0 ? ` (${conditions.join('; ')})` : '') +
                `; look for finalizers with: kubectl get namespace ${namespace} -o yaml; kubectl api-resources --verbs=list --namespaced -o name | xargs -n1 kubectl get -n ${namespace} --ignore-not-found`,
            );
          }
          await sleep(500);
          last = await readNamespace(namespace);
        }
        return;
      }

      // A namespace we adopted stays: remove what the virtual cluster left in it and our marks.
      for (const secret of [kubeconfigSecretName(ref.name), pkiSecretName(ref.name)]) {
        await host.core.deleteNamespacedSecret({ name: secret, namespace }).catch((error) => {
          if (!isNotFound(error)) throw error;
        });
      }
      await host.core.deleteCollectionNamespacedPod({
        namespace,
        labelSelector: `${managedByLabel}=${ref.name}`,
      });
      const marks = (keys: string[]) => Object.fromEntries(keys.map((key) => [key, null]));
      await host.core.patchNamespace(
        {
          name: namespace,
          body: {
            metadata: {
              labels: marks([labels.vcluster, labels.provider]),
              annotations: marks([annotations.state, annotations.createdAt, annotations.createdNamespace]),
            },
          },
        },
        mergePatch,
      );
    },

    async pause(ref) {
      const info = await mustGet(ref);
      const { namespace } = info;
      const workload = await readWorkload(ref.name, namespace);
      if (!workload) {
        throw new VirtualClusterError(
          `virtual cluster ${ref.name} has no control plane (no StatefulSet or Deployment ${ref.name} in namespace ${namespace}); delete it and create it again`,
        );
      }
      const alreadyPaused = workload.annotations[pauseAnnotations.paused] === 'true';
      await patchWorkload(workload.kind, ref.name, namespace, {
        metadata: alreadyPaused
          ? {}
          : {
              annotations: {
                [pauseAnnotations.paused]: 'true',
                [pauseAnnotations.replicas]: String(workload.replicas || 1),
              },
            },
        spec: { replicas: 0 },
      });
      // Workloads go with the control plane; services, PVCs and config stay for the resume.
      await host.core.deleteCollectionNamespacedPod({
        namespace,
        labelSelector: `${managedByLabel}=${ref.name}`,
      });
      const paused = infoFromNamespace(await setState(namespace, 'paused'));
      return paused ?? { ...info, state: 'paused' };
    },

    async resume(ref) {
      const info = await mustGet(ref);
      const { namespace } = info;
      const workload = await readWorkload(ref.name, namespace);
      if (!workload) {
        throw new VirtualClusterError(
          `virtual cluster ${ref.name} has no control plane (no StatefulSet or Deployment ${ref.name} in namespace ${namespace}); delete it and create it again`,
        );
      }
      if (workload.annotations[pauseAnnotations.paused] === 'true' || workload.replicas === 0) {
        const replicas = Number(workload.annotations[pauseAnnotations.replicas]) || 1;
        await patchWorkload(workload.kind, ref.name, namespace, {
          metadata: { annotations: { [pauseAnnotations.paused]: null, [pauseAnnotations.replicas]: null } },
          spec: { replicas },
        });
      }
      await waitReady(ref.name, namespace, () => {});
      const running = infoFromNamespace(await setState(namespace, 'running'));
      return running ?? { ...info, state: 'running' };
    },

    async list() {
      const namespaces = await host.core.listNamespace({ labelSelector: `${labels.provider}=kubernetes` });
      return namespaces.items
        .map(infoFromNamespace)
        .filter((info): info is VirtualClusterInfo => info !== undefined)
        .sort((a, b) => a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace));
    },

    get,

    async kubeconfig(ref) {
      const info = await mustGet(ref);
      const notReady = new VirtualClusterError(
        `virtual cluster ${ref.name} is not ready: its syncer has not written ${kubeconfigSecretName(ref.name)} yet (namespace ${info.namespace})`,
      );
      try {
        const secret = await host.core.readNamespacedSecret({
          name: kubeconfigSecretName(ref.name),
          namespace: info.namespace,
        });
        const config = secret.data?.config;
        if (!config) throw notReady;
        const kubeconfig = Buffer.from(config, 'base64').toString('utf8');
        if (apiAccess === 'secret') return kubeconfig;
        return kubeconfigWithServer(kubeconfig, await serverFor(ref.name, info.namespace));
      } catch (error) {
        if (isNotFound(error)) throw notReady;
        throw error;
      }
    },

    async syncerLog(ref, tailLines) {
      const info = await get(ref);
      if (!info) return [];
      const [pod] = await controlPlanePods(ref.name, info.namespace);
      if (!pod?.metadata?.name) return [];
      try {
        const log = await host.core.readNamespacedPodLog({
          name: pod.metadata.name,
          namespace: info.namespace,
          container: 'syncer',
          tailLines,
        });
        return log.split('\n');
      } catch (error) {
        // A container that has not started yet has no log to show.
        if (statusCodeOf(error) === 400 || isNotFound(error)) return [];
        throw error;
      }
    },
  };
}
