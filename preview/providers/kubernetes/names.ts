/**
 * The names the `charts/vcluster` chart gives a release's objects in its host namespace, and the
 * marks vcluster's CLI and syncer put on them (pure).
 */

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

/** Annotations vcluster's CLI puts on the control plane workload while it is paused. */
export const pauseAnnotations = {
  paused: 'loft.sh/paused',
  replicas: 'loft.sh/paused-replicas',
} as const;

/** Label the syncer puts on every host object it makes (pods included). */
export const managedByLabel = 'vcluster.loft.sh/managed-by';
