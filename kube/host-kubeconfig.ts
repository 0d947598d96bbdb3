import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class HostAccessError extends Error {
  override name = 'HostAccessError';
}

/**
 * A kubeconfig (YAML) for the cluster a pod runs in, made of its service account: the API server
 * from `KUBERNETES_SERVICE_HOST`/`_PORT`, the mounted CA, and the token by file: `tokenFile` for
 * kubectl and helm (read again after the kubelet rotates it), `token-file` for client-node, which
 * knows only that spelling.
 * Pure: the caller says where the account is mounted.
 */
export function inClusterKubeconfig(
  env: Record<string, string | undefined>,
  accountDir = SERVICE_ACCOUNT_DIR,
) {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new HostAccessError(
      'no host cluster: KUBECONFIG is not set and this is not a pod (KUBERNETES_SERVICE_HOST/PORT are unset); set KUBECONFIG to the host cluster kubeconfig file',
    );
  }
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return `apiVersion: v1
kind: Config
clusters:
  - name: in-cluster
    cluster:
      server: ${server}
      certificate-authority: ${accountDir}/ca.crt
users:
  - name: service-account
    user:
      tokenFile: ${accountDir}/token
      token-file: ${accountDir}/token
contexts:
  - name: in-cluster
    context:
      cluster: in-cluster
      user: service-account
current-context: in-cluster
`;
}

/**
 * The host cluster kubeconfig the service works with: the file `KUBECONFIG` names, or, inside a pod,
 * the pod's service account (as `rest.InClusterConfig` does for Go controllers).
 */
export async function readHostKubeconfig(
  kubeconfigPath: string | undefined,
  env: Record<string, string | undefined> = process.env,
  accountDir = SERVICE_ACCOUNT_DIR,
): Promise<string> {
  if (kubeconfigPath) return readFile(kubeconfigPath, 'utf8');
  const yaml = inClusterKubeconfig(env, accountDir);
  if (!existsSync(`${accountDir}/token`)) {
    throw new HostAccessError(
      `no host cluster: KUBECONFIG is not set and no service account token is mounted at ${accountDir}/token; set KUBECONFIG, or give the pod a service account with automountServiceAccountToken`,
    );
  }
  return yaml;
}
