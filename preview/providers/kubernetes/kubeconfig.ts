import { parse, stringify } from 'yaml';
import { VirtualClusterError } from '../../provider.ts';
import { apiServicePort } from './names.ts';

/**
 * How the kubeconfig that `kubeconfig()` hands out reaches the virtual API server (pure; see
 * `KubernetesProviderOptions.apiAccess`).
 */
export type ApiAccess = 'service' | 'cluster-ip' | 'secret';

/** Where a process reaches the virtual API servers when `apiAccess` is not given. */
export function defaultApiAccess(env: NodeJS.ProcessEnv = process.env): ApiAccess {
  return env.KUBERNETES_SERVICE_HOST ? 'service' : 'cluster-ip';
}

/** The virtual API server at the Service's ClusterIP (brackets for IPv6). */
export const clusterIPServer = (clusterIP: string) =>
  `https://${clusterIP.includes(':') ? `[${clusterIP}]` : clusterIP}:${apiServicePort}`;

/** A kubeconfig (YAML) with the server of every cluster replaced; everything else kept. */
export function kubeconfigWithServer(kubeconfig: string, server: string): string {
  const config = parse(kubeconfig) as { clusters?: { cluster?: { server?: string } }[] } | null;
  if (!config || !Array.isArray(config.clusters) || config.clusters.length === 0)
    throw new VirtualClusterError("the virtual cluster's kubeconfig has no clusters");
  for (const entry of config.clusters) entry.cluster = { ...entry.cluster, server };
  return stringify(config);
}
