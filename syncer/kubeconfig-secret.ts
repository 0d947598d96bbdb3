import { readFileSync } from 'node:fs';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { applyObject } from '../kube/apply.ts';
import { type KubeClients, messageOf } from '../kube/client.ts';

/** Field manager of everything the syncer server-side applies. */
export const SYNCER_FIELD_MANAGER = 'vcluster-syncer';

/** The users' kubeconfig Secret could not be made from the virtual kubeconfig. */
export class KubeconfigSecretError extends Error {
  override name = 'KubeconfigSecretError';
}

export interface KubeconfigSecretOptions {
  /** Secret name (the chart's `vc-<release>`) and host namespace. */
  name: string;
  namespace: string;
  /** Replaces the server of every cluster in the kubeconfig (e.g. the vcluster's Ingress host). */
  server?: string;
  labels?: Record<string, string>;
  /** Reads `certificate-authority`, `client-certificate`, … given as paths; default: refuse them. */
  readFile?: (path: string) => string;
}

type Entry<T> = { name?: string } & T;
interface Cluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  [key: string]: unknown;
}
interface User {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  [key: string]: unknown;
}
interface Kubeconfig {
  clusters?: Entry<{ cluster?: Cluster }>[];
  users?: Entry<{ user?: User }>[];
  contexts?: Entry<{ context?: { cluster?: string; user?: string } }>[];
  'current-context'?: string;
  [key: string]: unknown;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (data: string) => Buffer.from(data, 'base64').toString('utf8');

/**
 * The Secret vcluster writes for its users (keys `config`, `certificate-authority`,
 * `client-certificate`, `client-key`, and `token` when the user has one), built from the virtual
 * cluster's kubeconfig: `config` is that kubeconfig with every credential inlined and the server
 * replaced when `server` is given; the other keys are the current context's PEM files.
 */
export function kubeconfigSecret(kubeconfigYaml: string, options: KubeconfigSecretOptions): V1Secret {
  let config: Kubeconfig;
  try {
    config = parse(kubeconfigYaml) as Kubeconfig;
  } catch (error) {
    throw new KubeconfigSecretError(`the virtual kubeconfig is not valid YAML: ${messageOf(error)}`);
  }
  if (
    !config ||
    typeof config !== 'object' ||
    !Array.isArray(config.clusters) ||
    !Array.isArray(config.users)
  )
    throw new KubeconfigSecretError('the virtual kubeconfig has no clusters or users');

  const inline = <T extends Record<string, unknown>>(object: T, pathKey: string, dataKey: string) => {
    const path = object[pathKey];
    if (typeof path !== 'string' || object[dataKey]) return;
    if (!options.readFile)
      throw new KubeconfigSecretError(
        `the virtual kubeconfig refers to the file ${path} (${pathKey}); embed it as ${dataKey}`,
      );
    (object as Record<string, unknown>)[dataKey] = b64(options.readFile(path));
    delete object[pathKey];
  };
  for (const { cluster } of config.clusters) {
    if (!cluster) continue;
    if (options.server) cluster.server = options.server;
    inline(cluster, 'certificate-authority', 'certificate-authority-data');
  }
  for (const { user } of config.users) {
    if (!user) continue;
    inline(user, 'client-certificate', 'client-certificate-data');
    inline(user, 'client-key', 'client-key-data');
    if (user.tokenFile && !user.token && options.readFile) {
      user.token = options.readFile(user.tokenFile).trim();
      delete user.tokenFile;
    }
  }

  const contextName = config['current-context'] ?? config.contexts?.[0]?.name;
  const context = config.contexts?.find((entry) => entry.name === contextName)?.context;
  const cluster = config.clusters.find((entry) => entry.name === context?.cluster)?.cluster;
  const user = config.users.find((entry) => entry.name === context?.user)?.user;
  if (!context || !cluster || !user)
    throw new KubeconfigSecretError(
      `the virtual kubeconfig's current context ${contextName ?? '(none)'} does not name a cluster and a user of it`,
    );

  const data: Record<string, string> = { config: b64(stringify(config)) };
  // The data fields are base64 already: the Secret holds the same bytes (PEM files).
  if (cluster['certificate-authority-data'])
    data['certificate-authority'] = b64(unb64(cluster['certificate-authority-data']));
  if (user['client-certificate-data'])
    data['client-certificate'] = b64(unb64(user['client-certificate-data']));
  if (user['client-key-data']) data['client-key'] = b64(unb64(user['client-key-data']));
  if (user.token) data.token = b64(user.token);

  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: options.name, namespace: options.namespace, labels: options.labels },
    data,
  };
}

/**
 * Server-side applies the users' kubeconfig Secret in the host namespace (created when missing,
 * brought up to date otherwise; keys this syncer wrote before and no longer writes go away).
 */
export async function writeKubeconfigSecret(
  host: KubeClients,
  kubeconfigYaml: string,
  options: KubeconfigSecretOptions,
): Promise<V1Secret> {
  const secret = kubeconfigSecret(kubeconfigYaml, {
    readFile: (path) => readFileSync(path, 'utf8'),
    ...options,
  });
  return (await applyObject(host, secret as KubernetesObject, SYNCER_FIELD_MANAGER)) as V1Secret;
}
