import type { KubernetesObject } from '@kubernetes/client-node';
import type { IsolationOptions } from './provider.ts';

const managedBy = 'vcluster.loft.sh/managed-by';

/**
 * charts/vcluster's `isolation.networkPolicy` defaults (values.yaml; a unit test holds them equal):
 * the host's DNS by namespace and labels, and the internet without private, shared, loopback and
 * link-local (cloud metadata) ranges, so no other namespace's pod, Service or node is reachable.
 */
export const chartNetworkDefaults = {
  ingressControllerNamespace: 'ingress-nginx',
  dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
  outgoingConnections: {
    cidr: '0.0.0.0/0',
    except: [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
      '127.0.0.0/8',
      '169.254.0.0/16',
    ],
  },
} as const;

const dnsPorts = [
  { port: 53, protocol: 'UDP' },
  { port: 53, protocol: 'TCP' },
];

/**
 * The chart's `vc-work-<release>`, rule for rule: its workloads reach each other, their control plane
 * (port 8443), the host's DNS and the internet; they are reached by each other, their control plane
 * and the ingress controller's namespace.
 */
function workloadPolicy(
  name: string,
  metadata: KubernetesObject['metadata'],
  ingressControllerNamespace: string = chartNetworkDefaults.ingressControllerNamespace,
): KubernetesObject {
  const workloads = { podSelector: { matchLabels: { [managedBy]: name } } };
  const controlPlane = { podSelector: { matchLabels: { app: 'vcluster', release: name } } };
  const { dns, outgoingConnections } = chartNetworkDefaults;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata,
    spec: {
      podSelector: workloads.podSelector,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            workloads,
            controlPlane,
            ...(ingressControllerNamespace
              ? [
                  {
                    namespaceSelector: {
                      matchLabels: { 'kubernetes.io/metadata.name': ingressControllerNamespace },
                    },
                  },
                ]
              : []),
          ],
        },
      ],
      egress: [
        { to: [workloads] },
        { to: [controlPlane], ports: [{ port: 8443, protocol: 'TCP' }] },
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': dns.namespace } },
              podSelector: { matchLabels: { ...dns.podLabels } },
            },
          ],
          ports: dnsPorts,
        },
        { to: [{ ipBlock: { cidr: outgoingConnections.cidr, except: [...outgoingConnections.except] } }] },
      ],
    },
  } as KubernetesObject;
}

/**
 * The objects that fence one virtual cluster inside its host namespace: a quota and default limits
 * so one preview cannot starve the others, and NetworkPolicies so its pods talk only to each
 * other, to DNS, to the ingress controller and out to the internet — never to another preview.
 * The same objects the `vcluster` chart renders, for the local provider.
 */
export function isolationObjects(
  name: string,
  namespace: string,
  options: IsolationOptions & { ingressControllerNamespace?: string } = {},
): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  const metadata = (objectName: string) => ({
    name: objectName,
    namespace,
    labels: { 'app.kubernetes.io/managed-by': 'vcluster-preview', 'vcluster-preview.dev/vcluster': name },
  });
  if (options.quota ?? true) {
    objects.push(
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: metadata(`vc-${name}`),
        spec: {
          hard: {
            'requests.cpu': '10',
            'requests.memory': '20Gi',
            'limits.cpu': '20',
            'limits.memory': '40Gi',
            'requests.storage': '100Gi',
            'count/pods': '20',
            'count/services': '20',
            'count/configmaps': '100',
            'count/secrets': '100',
            'count/persistentvolumeclaims': '20',
            'count/endpoints': '40',
            'services.loadbalancers': '1',
            'services.nodeports': '1',
            'count/ingresses.networking.k8s.io': '10',
          },
        },
      } as KubernetesObject,
      {
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: metadata(`vc-${name}`),
        spec: {
          limits: [
            {
              type: 'Container',
              default: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '8Gi' },
              defaultRequest: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '3Gi' },
            },
          ],
        },
      } as KubernetesObject,
    );
  }
  if (options.networkPolicy ?? true) {
    objects.push(workloadPolicy(name, metadata(`vc-work-${name}`), options.ingressControllerNamespace));
  }
  return objects;
}
