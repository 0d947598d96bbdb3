import type { KubernetesObject } from '@kubernetes/client-node';
import { addressCidr } from '../../host-machine.ts';
import { labels } from '../../provider.ts';

/** NetworkPolicy `vc-host-<name>`. */
export const podAccessPolicyName = (name: string) => `vc-host-${name}`;

/**
 * What the chart's rules (`vc-work-<name>`, preview/isolation.ts) cannot name where the host's DNS,
 * its ingress controller and this virtual cluster's API server are processes of this machine rather
 * than pods: the machine's address as pods see it may reach the workloads (the ingress controller
 * serving the preview URL), and the workloads may reach that address on the DNS port and on this
 * virtual API server's port only, never the host's API server or anything else listening there.
 * Pure; applied by the runner on every start, since the API server's port changes.
 */
export function podAccessPolicy(
  name: string,
  namespace: string,
  machine: { address: string; apiServerPort: number },
): KubernetesObject {
  const cidr = addressCidr(machine.address);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: podAccessPolicyName(name),
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'vcluster-preview', [labels.vcluster]: name },
    },
    spec: {
      podSelector: { matchLabels: { 'vcluster.loft.sh/managed-by': name } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ ipBlock: { cidr } }] }],
      egress: [
        {
          to: [{ ipBlock: { cidr } }],
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
            { port: machine.apiServerPort, protocol: 'TCP' },
          ],
        },
      ],
    },
  } as KubernetesObject;
}
