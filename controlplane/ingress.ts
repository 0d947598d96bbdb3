import { join } from 'node:path';
import { CoreV1Api, KubeConfig, NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { Binaries } from './binaries.ts';
import { ignoreAlreadyExists, ManagedProcess } from './process.ts';

/** The IngressClass the embedded host's controller serves, made the cluster's default. */
export const INGRESS_CLASS = 'traefik';
const IDENTITY = 'vcluster-preview-ingress';
const NAMESPACE = 'kube-system';

/**
 * Traefik (the k3s default) as the embedded host's ingress controller: it watches the host's
 * Ingresses through the API server and serves them over HTTP at `listen`, sending requests to the
 * pods' addresses. Traefik takes no client certificate, so it gets a ServiceAccount with only what
 * it reads, and a token for it (in its environment, not on its command line).
 */
export async function startIngressController(options: {
  binaries: Binaries;
  /** Admin kubeconfig, to make its identity and IngressClass. */
  kubeconfig: string;
  server: string;
  caFile: string;
  /** host:port of the HTTP entry point. */
  listen: string;
  /**
   * host:port of an entry point of its own for the Prometheus metrics (per-service request counts,
   * which the sweep reads as visits: PREVIEW_TRAFFIC_METRICS_URL). Never the preview entry point:
   * there `/metrics` would shadow the previews' own and show every preview's traffic to anyone.
   */
  metricsListen?: string;
  logDir: string;
}): Promise<ManagedProcess> {
  const kc = new KubeConfig();
  kc.loadFromString(options.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  await core
    .createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: IDENTITY } } })
    .catch(ignoreAlreadyExists);
  await rbac
    .createClusterRole({
      body: {
        metadata: { name: IDENTITY },
        rules: [
          {
            apiGroups: [''],
            resources: ['services', 'endpoints', 'secrets', 'nodes'],
            verbs: ['get', 'list', 'watch'],
          },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
          {
            apiGroups: ['networking.k8s.io', 'extensions'],
            resources: ['ingresses', 'ingressclasses'],
            verbs: ['get', 'list', 'watch'],
          },
          {
            apiGroups: ['networking.k8s.io', 'extensions'],
            resources: ['ingresses/status'],
            verbs: ['update'],
          },
        ],
      },
    })
    .catch(ignoreAlreadyExists);
  await rbac
    .createClusterRoleBinding({
      body: {
        metadata: { name: IDENTITY },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: IDENTITY },
        subjects: [{ kind: 'ServiceAccount', name: IDENTITY, namespace: NAMESPACE }],
      },
    })
    .catch(ignoreAlreadyExists);
  await networking
    .createIngressClass({
      body: {
        metadata: {
          name: INGRESS_CLASS,
          // Ingresses without a class get this one, as on k3s.
          annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
        },
        spec: { controller: 'traefik.io/ingress-controller' },
      },
    })
    .catch(ignoreAlreadyExists);
  const token = await core.createNamespacedServiceAccountToken({
    name: IDENTITY,
    namespace: NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 365 * 24 * 3600 } },
  });
  // Traefik reads its static settings from one source only: the environment, so the token stays
  // off the command line.
  const settings = {
    TRAEFIK_ENTRYPOINTS_WEB_ADDRESS: options.listen,
    TRAEFIK_PROVIDERS_KUBERNETESINGRESS: 'true',
    TRAEFIK_PROVIDERS_KUBERNETESINGRESS_ENDPOINT: options.server,
    TRAEFIK_PROVIDERS_KUBERNETESINGRESS_CERTAUTHFILEPATH: options.caFile,
    TRAEFIK_PROVIDERS_KUBERNETESINGRESS_TOKEN: token.status!.token,
    TRAEFIK_PROVIDERS_KUBERNETESINGRESS_THROTTLEDURATION: '0s',
    TRAEFIK_LOG_LEVEL: 'WARN',
    TRAEFIK_GLOBAL_CHECKNEWVERSION: 'false',
    TRAEFIK_GLOBAL_SENDANONYMOUSUSAGE: 'false',
    ...(options.metricsListen
      ? {
          TRAEFIK_ENTRYPOINTS_METRICS_ADDRESS: options.metricsListen,
          // Ingresses name no entry point: without this they would be served on the metrics one too.
          TRAEFIK_ENTRYPOINTS_WEB_ASDEFAULT: 'true',
          TRAEFIK_METRICS_PROMETHEUS: 'true',
          TRAEFIK_METRICS_PROMETHEUS_ENTRYPOINT: 'metrics',
          TRAEFIK_METRICS_PROMETHEUS_ADDSERVICESLABELS: 'true',
        }
      : {}),
  };
  return new ManagedProcess({
    name: 'traefik',
    command: options.binaries.path('traefik'),
    args: [],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...settings },
    logFile: join(options.logDir, 'traefik.log'),
  });
}
