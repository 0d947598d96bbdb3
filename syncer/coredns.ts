import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { parseAllDocuments } from 'yaml';
import { applyObject } from '../kube/apply.ts';
import { isNotFound, type KubeClients, messageOf, statusCodeOf } from '../kube/client.ts';
import { SYNCER_FIELD_MANAGER } from './kubeconfig-secret.ts';

/** The key of the chart's CoreDNS ConfigMap that holds the manifests. */
export const COREDNS_MANIFESTS_KEY = 'coredns.yaml';

/** The CoreDNS manifests are missing or broken: a configuration error, not worth retrying. */
export class CoreDnsManifestError extends Error {
  override name = 'CoreDnsManifestError';
}

/** Every non-empty document of a multi-document YAML, each checked to be a Kubernetes object. */
export function parseManifests(yaml: string, source = COREDNS_MANIFESTS_KEY): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  parseAllDocuments(yaml).forEach((document, index) => {
    if (document.errors.length > 0)
      throw new CoreDnsManifestError(
        `${source}: document ${index + 1} is not valid YAML: ${document.errors[0]?.message}`,
      );
    const object = document.toJS() as KubernetesObject | null;
    if (object === null || object === undefined) return;
    if (typeof object !== 'object' || !object.apiVersion || !object.kind || !object.metadata?.name)
      throw new CoreDnsManifestError(
        `${source}: document ${index + 1} is not a Kubernetes object (apiVersion, kind and metadata.name are required)`,
      );
    objects.push(object);
  });
  return objects;
}

export interface ApplyCoreDnsOptions {
  /** The host ConfigMap (the chart's `<release>-coredns`) and its namespace. */
  configMap: string;
  hostNamespace: string;
  logger?: Logger;
  /** How long to keep retrying while the virtual API server refuses (default 120 s). */
  timeoutMs?: number;
}

/**
 * Reads key `coredns.yaml` of the host ConfigMap and server-side applies every document into the
 * virtual cluster, in order, as field manager `vcluster-syncer` (conflicts forced). Server errors
 * are retried until the timeout (the virtual API server may still be starting); a missing
 * ConfigMap or key, or a broken manifest, fails at once. Returns the applied objects.
 */
export async function applyCoreDns(
  host: KubeClients,
  virtual: KubeClients,
  options: ApplyCoreDnsOptions,
): Promise<KubernetesObject[]> {
  const where = `host ConfigMap ${options.hostNamespace}/${options.configMap}`;
  let yaml: string | undefined;
  try {
    const configMap = await host.core.readNamespacedConfigMap({
      name: options.configMap,
      namespace: options.hostNamespace,
    });
    yaml = configMap.data?.[COREDNS_MANIFESTS_KEY];
  } catch (error) {
    if (isNotFound(error)) throw new CoreDnsManifestError(`${where} does not exist (--coredns-configmap)`);
    throw error;
  }
  if (yaml === undefined) throw new CoreDnsManifestError(`${where} has no key ${COREDNS_MANIFESTS_KEY}`);
  const objects = parseManifests(yaml, `${where}, key ${COREDNS_MANIFESTS_KEY}`);

  const applied = await applyCoreDnsObjects(virtual, objects, { ...options, source: where });
  options.logger?.info({ objects: applied.length, configMap: where }, 'CoreDNS manifests applied');
  return applied;
}

/**
 * Server-side applies CoreDNS objects into the virtual cluster, in order, as field manager
 * `vcluster-syncer` (conflicts forced), retrying server errors until the timeout (the virtual API
 * server may still be starting). A client error other than 404/409/429 fails at once.
 */
export async function applyCoreDnsObjects(
  virtual: KubeClients,
  objects: KubernetesObject[],
  options: { logger?: Logger; timeoutMs?: number; source: string },
): Promise<KubernetesObject[]> {
  const where = options.source;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    const name = `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        // kube/apply.ts sends the manifest as it is; the typed client would drop fields it models differently.
        applied.push(await applyObject(virtual, object, SYNCER_FIELD_MANAGER));
        break;
      } catch (error) {
        const code = statusCodeOf(error);
        // 4xx other than 404/409/429 is the manifest's fault: retrying will not help.
        const permanent = code !== undefined && code >= 400 && code < 500 && ![404, 409, 429].includes(code);
        if (permanent || Date.now() + delay > deadline) {
          throw new CoreDnsManifestError(`applying ${name} from ${where} failed: ${messageOf(error)}`);
        }
        options.logger?.info(
          { object: name, err: error, retryInMs: delay },
          'CoreDNS apply failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
  return applied;
}

export interface CoreDnsManifestOptions {
  /** Default `registry.k8s.io/coredns/coredns:v1.12.1`, as the chart's `coredns.image`. */
  image?: string;
  replicas?: number;
  /** The virtual cluster's DNS domain (default `cluster.local`). */
  clusterDomain?: string;
}

export const DEFAULT_COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.12.1';

/**
 * CoreDNS inside the virtual cluster, as vcluster runs it and the `vcluster` chart renders it
 * (charts/vcluster/templates/_coredns.tpl, with the chart's default values): account and read-only
 * RBAC, Corefile, Service `kube-system/kube-dns` (53 → 1053, so CoreDNS runs without privileges)
 * and the Deployment. Synced to the host like any workload; the pods' nameserver is then the host
 * ClusterIP of `kube-dns`. For the local provider, which has no chart.
 */
export function coreDnsManifests(options: CoreDnsManifestOptions = {}): KubernetesObject[] {
  const domain = options.clusterDomain ?? 'cluster.local';
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' };
  const corefile = `.:1053 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes ${domain} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
      rules: [
        {
          apiGroups: [''],
          resources: ['endpoints', 'services', 'pods', 'namespaces'],
          verbs: ['list', 'watch'],
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: corefile },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels },
      spec: {
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, targetPort: 1053, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, targetPort: 1053, protocol: 'TCP' },
          { name: 'metrics', port: 9153, targetPort: 9153, protocol: 'TCP' },
        ],
      },
    } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: options.replicas ?? 1,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            serviceAccountName: 'coredns',
            // Upstream resolution goes to the host's DNS, not to itself.
            dnsPolicy: 'Default',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'coredns',
                image: options.image ?? DEFAULT_COREDNS_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 1053, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 1053, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                resources: {
                  requests: { cpu: '20m', memory: '64Mi' },
                  limits: { cpu: '1', memory: '170Mi' },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                livenessProbe: {
                  httpGet: { path: '/health', port: 8080 },
                  initialDelaySeconds: 60,
                  timeoutSeconds: 5,
                  failureThreshold: 5,
                },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 } },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [
              {
                name: 'config',
                configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] },
              },
            ],
          },
        },
      },
    } as KubernetesObject,
  ];
}
