import { fileURLToPath } from 'node:url';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { isNotFound, type KubeClients, kubeClients, statusCodeOf } from '../../../kube/client.ts';
import type { VolumeFenceOptions } from '../../../syncer/policy/volume-fence.ts';
import { addressCidr, machineAddressForPods } from '../../host-machine.ts';
import {
  labels,
  namespaceFor,
  VirtualClusterError,
  type VirtualClusterInfo,
  type VirtualClusterProvider,
  type VirtualClusterRef,
  validateName,
} from '../../provider.ts';
import { detectServiceCIDR } from '../../service-cidr.ts';
import { deleteVirtualCluster } from './delete.ts';
import { helmRunner } from './helm.ts';
import { infoFromNamespace } from './info.ts';
import { installChart } from './install.ts';
import { type ApiAccess, defaultApiAccess } from './kubeconfig.ts';
import { ensureNamespace, readNamespace, setState } from './namespace.ts';
import { pauseControlPlane, resumeControlPlane } from './pause.ts';
import { readKubeconfig } from './read-kubeconfig.ts';
import { chartValues, mergeValues, operatorValues } from './values.ts';
import { waitReady } from './wait.ts';
import { controlPlanePods } from './workload.ts';

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
  /** CSI drivers and storage classes previews' pods may use (chart values `isolation.allowedCsiDrivers`, `isolation.allowedStorageClasses`). */
  volumeFence?: VolumeFenceOptions;
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

const defaultChart = fileURLToPath(new URL('../../../charts/vcluster', import.meta.url));

/** Virtual clusters as releases of the `charts/vcluster` chart, one per host namespace. */
export function kubernetesProvider(options: KubernetesProviderOptions): VirtualClusterProvider {
  const host: KubeClients = kubeClients(options.hostKubeconfig);
  const rbac = host.config.makeApiClient(RbacAuthorizationV1Api);
  const helm = helmRunner(options.helmBinary, options.hostKubeconfig);
  const chart = options.chartPath ?? defaultChart;
  const readyTimeoutMs = options.readyTimeoutMs ?? 5 * 60_000;
  const deleteTimeoutMs = options.deleteTimeoutMs ?? 3 * 60_000;
  const apiAccess = options.apiAccess ?? defaultApiAccess();
  // Where this worker runs does not change while it lives: ask once (asked again after a failure).
  let machine: Promise<string | undefined> | undefined;
  const machineAddress = () => {
    machine ??= machineAddressForPods(host).catch((error: unknown) => {
      machine = undefined;
      throw error;
    });
    return machine;
  };

  async function get(ref: VirtualClusterRef): Promise<VirtualClusterInfo | undefined> {
    const namespace = await readNamespace(host, namespaceFor(ref));
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
      const ns = await ensureNamespace(host, createOptions, namespace);
      const before = infoFromNamespace(ns);
      // A create of a paused cluster (a push to a preview that fell asleep) wakes it, then upgrades
      // it as any create does: as the local provider's create starts its processes again.
      if (before?.state === 'paused') {
        report(`virtual cluster ${name} is paused: resuming it`);
        await resumeControlPlane(host, name, namespace);
      }
      if (before?.state === 'failed') await setState(host, namespace, 'creating');

      const serviceCIDR = options.serviceCIDR ?? (await detectServiceCIDR(host.core, namespace));
      report(`host service CIDR ${serviceCIDR}`);
      // On the embedded host the DNS and the ingress controller are processes of this machine, not
      // pods: the chart's policies let its address in (and DNS queries out to it).
      const hostMachine = await machineAddress();
      const base = mergeValues(
        hostMachine ? { isolation: { networkPolicy: { hostCIDRs: [addressCidr(hostMachine)] } } } : {},
        options.values ?? {},
      );
      const values = chartValues(
        name,
        namespace,
        createOptions,
        operatorValues({ ...options, values: base }),
      );
      report(`helm upgrade --install ${name} (namespace ${namespace})`);
      await installChart(helm, { name, namespace, chart, serviceCIDR, values });

      report('waiting for the control plane pod and the kubeconfig Secret');
      await waitReady(host, name, namespace, { timeoutMs: readyTimeoutMs, report });
      const info = infoFromNamespace(await setState(host, namespace, 'running'));
      if (!info) throw new VirtualClusterError(`namespace ${namespace} lost its vcluster-preview labels`);
      report(`virtual cluster ${name} is running`);
      return info;
    },

    async delete(ref) {
      validateName(ref.name);
      await deleteVirtualCluster(host, rbac, helm, ref, deleteTimeoutMs);
    },

    async pause(ref) {
      const info = await mustGet(ref);
      await pauseControlPlane(host, ref.name, info.namespace);
      const paused = infoFromNamespace(await setState(host, info.namespace, 'paused'));
      return paused ?? { ...info, state: 'paused' };
    },

    async resume(ref) {
      const info = await mustGet(ref);
      await resumeControlPlane(host, ref.name, info.namespace);
      await waitReady(host, ref.name, info.namespace, { timeoutMs: readyTimeoutMs, report: () => {} });
      const running = infoFromNamespace(await setState(host, info.namespace, 'running'));
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
      return readKubeconfig(host, ref.name, info.namespace, apiAccess);
    },

    async syncerLog(ref, tailLines) {
      const info = await get(ref);
      if (!info) return [];
      const [pod] = await controlPlanePods(host, ref.name, info.namespace);
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
