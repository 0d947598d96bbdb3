import { type Binaries, ensureBinaries } from '../../controlplane/index.ts';
import { kubeClients } from '../../kube/client.ts';
import type { VolumeFenceOptions } from '../../syncer/policy/volume-fence.ts';
import {
  labels,
  namespaceFor,
  type ProviderName,
  type VirtualClusterProvider,
  type VirtualClusterRef,
} from '../provider.ts';
import { kubernetesProvider } from './kubernetes/provider.ts';
import { mergeValues } from './kubernetes/values.ts';
import { localProvider } from './local/provider.ts';

export interface ProviderContext {
  /** Host cluster admin kubeconfig (YAML). */
  hostKubeconfig: string;
  binaries: Binaries;
  /** charts/vcluster values for every virtual cluster of the `kubernetes` provider (the operator's). */
  vclusterValues?: Record<string, unknown>;
  /** IngressClass of every preview's host Ingresses (the operator's); unset, the host's default. */
  ingressClassName?: string;
  /** CSI drivers and storage classes previews' pods may use (the operator's); unset, no CSI driver and any class. */
  volumeFence?: VolumeFenceOptions;
  /** Space quota of each virtual cluster's store (etcd) in bytes (the operator's); unset, each provider's default. */
  storeQuotaBytes?: number;
}

export function providerFor(name: ProviderName, context: ProviderContext): VirtualClusterProvider {
  const ingressClass = context.ingressClassName ? { ingressClassName: context.ingressClassName } : {};
  const operator = { ...ingressClass, ...(context.volumeFence ? { volumeFence: context.volumeFence } : {}) };
  const { storeQuotaBytes } = context;
  if (name === 'local')
    return localProvider({
      hostKubeconfig: context.hostKubeconfig,
      ...operator,
      ...(storeQuotaBytes ? { storeQuotaBytes } : {}),
    });
  // The chart's own value, under what the operator wrote there (which wins).
  const values = mergeValues(
    storeQuotaBytes ? { controlPlane: { etcd: { quotaBackendBytes: storeQuotaBytes } } } : {},
    context.vclusterValues ?? {},
  );
  return kubernetesProvider({
    hostKubeconfig: context.hostKubeconfig,
    helmBinary: context.binaries.path('helm'),
    ...(Object.keys(values).length > 0 ? { values } : {}),
    ...operator,
  });
}

/** The provider that made an existing virtual cluster, read from its host namespace's label. */
export async function providerOf(
  ref: VirtualClusterRef,
  context: ProviderContext,
): Promise<VirtualClusterProvider | undefined> {
  try {
    const namespace = await kubeClients(context.hostKubeconfig).core.readNamespace({
      name: namespaceFor(ref),
    });
    if (namespace.metadata?.labels?.[labels.vcluster] !== ref.name) return undefined;
    const name = namespace.metadata.labels[labels.provider];
    return name === 'local' || name === 'kubernetes' ? providerFor(name, context) : undefined;
  } catch {
    return undefined;
  }
}

/** A provider by name with the project's own helm binary (built into the machine-wide cache when missing). */
export async function providerNamed(
  name: ProviderName,
  hostKubeconfig: string,
  options: Pick<
    ProviderContext,
    'vclusterValues' | 'ingressClassName' | 'volumeFence' | 'storeQuotaBytes'
  > = {},
): Promise<VirtualClusterProvider> {
  return providerFor(name, { hostKubeconfig, binaries: await ensureBinaries(), ...options });
}

/** The helm binary the kubernetes provider and `helm:` app configs use. */
export async function helmBinary(): Promise<string> {
  return (await ensureBinaries()).path('helm');
}
