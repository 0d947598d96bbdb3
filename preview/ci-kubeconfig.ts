import { applyObjects } from '../kube/apply.ts';
import { apiErrorMessage, kubeClients } from '../kube/client.ts';
import type { VirtualClusterProvider, VirtualClusterRef } from './provider.ts';
import { scopedKubeconfig } from './scoped-kubeconfig.ts';

/**
 * A short-lived kubeconfig of one preview's virtual cluster for the pull request's own workflow,
 * made the way `vcluster connect --service-account --token-expiration` makes one: a ServiceAccount
 * in the virtual cluster, bound to cluster-admin there (the tenant is admin of its own cluster
 * anyway), and a token for it from the TokenRequest API. Never the admin client certificate, never
 * host credentials: the token is valid for this virtual cluster only (each has its own signing key)
 * and until it expires.
 */

export const CI_SERVICE_ACCOUNT = { name: 'vcluster-preview-ci', namespace: 'kube-system' } as const;

/** The API server refuses shorter tokens; longer ones than a working day are not what CI needs. */
export const TOKEN_EXPIRATION = { defaultSeconds: 3600, minSeconds: 600, maxSeconds: 24 * 3600 } as const;

export interface CiKubeconfig {
  kubeconfig: string;
  /** The token inside it, so the caller can mask it in logs. */
  token: string;
  /** When the token stops working (ISO 8601). */
  expiresAt: string;
  /** `namespace/name` of the ServiceAccount the token is for. */
  serviceAccount: string;
}

export interface CiKubeconfigOptions {
  /** Default 1 h. */
  expirationSeconds?: number;
  /** Names the kubeconfig's cluster, user and context; default the virtual cluster's name. */
  contextName?: string;
}

const FIELD_MANAGER = 'vcluster-preview';

export async function ciKubeconfig(
  provider: Pick<VirtualClusterProvider, 'kubeconfig'>,
  ref: VirtualClusterRef,
  options: CiKubeconfigOptions = {},
): Promise<CiKubeconfig> {
  const adminKubeconfig = await provider.kubeconfig(ref);
  const virtual = kubeClients(adminKubeconfig);
  const { name, namespace } = CI_SERVICE_ACCOUNT;
  // Applied every time: idempotent, and a tenant who deleted them gets them back.
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  };
  await applyObjects(
    virtual,
    [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } }, binding],
    FIELD_MANAGER,
  );
  let answer: Awaited<ReturnType<typeof virtual.core.createNamespacedServiceAccountToken>>;
  try {
    answer = await virtual.core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: {
        spec: {
          audiences: [],
          expirationSeconds: options.expirationSeconds ?? TOKEN_EXPIRATION.defaultSeconds,
        },
      },
    });
  } catch (error) {
    throw new Error(
      `TokenRequest for ${namespace}/${name} in virtual cluster ${ref.name} failed: ${apiErrorMessage(error)}`,
    );
  }
  const token = answer.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} in ${ref.name} returned no token`);
  const expiry = answer.status?.expirationTimestamp;
  return {
    kubeconfig: scopedKubeconfig({ adminKubeconfig, name: options.contextName ?? ref.name, token }),
    token,
    expiresAt: new Date(expiry ?? Date.now()).toISOString(),
    serviceAccount: `${namespace}/${name}`,
  };
}
