import type { KubernetesObject } from '@kubernetes/client-node';
import type { IsolationOptions } from './provider.ts';

const managedBy = 'vcluster.loft.sh/managed-by';

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
    const sameCluster = { podSelector: { matchLabels: { [managedBy]: name } } };
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(`vc-work-${name}`),
      spec: {
        podSelector: { matchLabels: { [managedBy]: name } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [sameCluster] },
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: {
                    'kubernetes.io/metadata.name': options.ingressControllerNamespace ?? 'ingress-nginx',
                  },
                },
              },
            ],
          },
        ],
        egress: [
          { to: [sameCluster] },
          {
            to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
          // The internet, but no pod of the cluster network: other previews stay unreachable.
          {
            to: [
              { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } },
            ],
          },
        ],
      },
    } as KubernetesObject);
  }
  return objects;
}
