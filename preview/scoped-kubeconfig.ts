import { parse, stringify } from 'yaml';
import { VirtualClusterError } from './provider.ts';

/**
 * A kubeconfig for a pull request's own workflow (pure): the virtual cluster's server and CA from
 * its admin kubeconfig, and a service-account token as the only credential. Nothing of the admin
 * user (client certificate, key, token, exec plugin) is carried over.
 */

export interface ScopedKubeconfigInput {
  /** The virtual cluster's admin kubeconfig (YAML), for its server and CA only. */
  adminKubeconfig: string;
  /** Cluster, user and context name, like `vcluster-preview_pr-12-acme--shop`. */
  name: string;
  /** A token from the TokenRequest API. */
  token: string;
  /** The context's default namespace. */
  namespace?: string;
}

interface KubeconfigCluster {
  server?: unknown;
  'certificate-authority-data'?: unknown;
  'certificate-authority'?: unknown;
  'insecure-skip-tls-verify'?: unknown;
  'tls-server-name'?: unknown;
}

interface Kubeconfig {
  clusters?: { name?: unknown; cluster?: KubeconfigCluster }[];
  contexts?: { name?: unknown; context?: { cluster?: unknown } }[];
  'current-context'?: unknown;
}

const broken = (why: string) =>
  new VirtualClusterError(
    `the virtual cluster's admin kubeconfig cannot be turned into a preview kubeconfig: ${why}`,
  );

/** The admin kubeconfig's current cluster (or its only one). */
function currentCluster(config: Kubeconfig): KubeconfigCluster {
  const clusters = Array.isArray(config.clusters) ? config.clusters : [];
  const contexts = Array.isArray(config.contexts) ? config.contexts : [];
  const context = contexts.find((entry) => entry.name === config['current-context']);
  const named = context ? clusters.find((entry) => entry.name === context.context?.cluster) : undefined;
  const cluster = named?.cluster ?? (clusters.length === 1 ? clusters[0]?.cluster : undefined);
  if (!cluster) throw broken('it names no current cluster');
  return cluster;
}

export function scopedKubeconfig(input: ScopedKubeconfigInput): string {
  if (!input.token) throw broken('the token is empty');
  let config: Kubeconfig;
  try {
    config = (parse(input.adminKubeconfig) ?? {}) as Kubeconfig;
  } catch (error) {
    throw broken(`it is not YAML (${(error as Error).message})`);
  }
  const admin = currentCluster(config);
  if (typeof admin.server !== 'string' || !/^https:\/\//.test(admin.server)) {
    throw broken(`its server ${JSON.stringify(admin.server ?? null)} is not an https URL`);
  }
  // A CA file is a path on the service's machine, of no use where the kubeconfig goes.
  if (admin['certificate-authority'] !== undefined && admin['certificate-authority-data'] === undefined) {
    throw broken('its CA is a file (certificate-authority), not inline (certificate-authority-data)');
  }
  const cluster: Record<string, unknown> = { server: admin.server };
  for (const key of ['certificate-authority-data', 'tls-server-name', 'insecure-skip-tls-verify'] as const) {
    if (admin[key] !== undefined) cluster[key] = admin[key];
  }
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.name, cluster }],
    users: [{ name: input.name, user: { token: input.token } }],
    contexts: [
      {
        name: input.name,
        context: {
          cluster: input.name,
          user: input.name,
          ...(input.namespace ? { namespace: input.namespace } : {}),
        },
      },
    ],
    'current-context': input.name,
    preferences: {},
  });
}
