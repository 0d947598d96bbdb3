/** Owner set on every host object so that uninstalling the vcluster garbage-collects them. */
export interface HostOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** Everything the pure translation needs to know about one vcluster and its host namespace. */
export interface TranslateContext {
  /** Name of the virtual cluster (vcluster's "suffix"), part of every host name. */
  vclusterName: string;
  /** The single host namespace all virtual namespaces are synced into. */
  hostNamespace: string;
  /** Ingress hosts must equal this or be a subdomain of it (`*.x` means the same as `x`). */
  allowedHostSuffix?: string;
  /**
   * The IngressClass of every host Ingress (`--ingress-class`): the operator's, whatever the virtual
   * Ingress names. Unset, host Ingresses name none and the host's default class serves them.
   */
  ingressClassName?: string;
  /** Cluster DNS domain of the virtual cluster; defaults to `cluster.local`. */
  clusterDomain?: string;
  /**
   * Host ClusterIP of the virtual cluster's DNS service, used as pod nameserver. Unset, the pod
   * syncer takes the host twin's ClusterIP of the virtual `kube-system/kube-dns` (see dnsServiceIPFor).
   */
  dnsServiceIP?: string;
  /** Host ClusterIP of the vcluster's API service, for KUBERNETES_SERVICE_HOST and hostAliases. */
  kubernetesServiceIP?: string;
  /** Port of that service; defaults to 443 like the virtual `default/kubernetes` service. */
  kubernetesServicePort?: number;
  /** When given, set as ownerReference on every host object created from a virtual object. */
  owner?: HostOwner;
  /**
   * Service types beyond ClusterIP the operator lets reach the host (`--allow-service-types`).
   * Default none: a NodePort or LoadBalancer service is synced as ClusterIP. ExternalName never syncs.
   */
  allowedServiceTypes?: readonly ExposingServiceType[];
  /**
   * Annotations the host's controllers act on that the operator lets reach the host
   * (`--allow-annotations`; see annotation-fence.ts). Default none.
   */
  allowedAnnotations?: readonly string[];
}

/** Service types that expose a preview outside the host cluster: only by the operator's leave. */
export const EXPOSING_SERVICE_TYPES = ['NodePort', 'LoadBalancer'] as const;
export type ExposingServiceType = (typeof EXPOSING_SERVICE_TYPES)[number];

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
export const DEFAULT_KUBERNETES_SERVICE_PORT = 443;

export function clusterDomainOf(ctx: TranslateContext): string {
  return ctx.clusterDomain || DEFAULT_CLUSTER_DOMAIN;
}

export function kubernetesServicePortOf(ctx: TranslateContext): number {
  return ctx.kubernetesServicePort ?? DEFAULT_KUBERNETES_SERVICE_PORT;
}
