import type { KubernetesObject } from '@kubernetes/client-node';
import { applyObject } from '../../../kube/apply.ts';
import type { KubeClients } from '../../../kube/client.ts';
import { machineAddressForPods } from '../../host-machine.ts';
import { labels } from '../../provider.ts';

const fieldManager = 'vcluster-preview';

/**
 * How the pods of a local virtual cluster reach its API server, which runs on this machine: a host
 * Service in the virtual cluster's namespace (like the chart's `<release>` Service, 443) whose one
 * endpoint is this machine's address as the host's pods see it. Its ClusterIP is the synced pods'
 * `KUBERNETES_SERVICE_HOST` and a name of the API server's certificate.
 */
export interface PodApiAccess {
  /** This machine's address that pods reach (the host API server's advertised address). */
  address: string;
  /** The host Service and its ClusterIP. */
  serviceName: string;
  serviceIP: string;
  /** The Service's UID: it owns the EndpointSlice, so deleting it takes the slice along. */
  serviceUID: string;
}

const objectLabels = (name: string) => ({
  'app.kubernetes.io/managed-by': 'vcluster-preview',
  [labels.vcluster]: name,
});

/**
 * Finds the address pods reach this machine at and makes (or keeps) the host Service in front of
 * the virtual API server. Undefined when pods cannot reach this machine. Call before the virtual
 * API server starts: its certificate must name the Service's ClusterIP.
 */
export async function preparePodApiAccess(
  host: KubeClients,
  namespace: string,
  name: string,
): Promise<PodApiAccess | undefined> {
  const address = await machineAddressForPods(host);
  if (!address) return undefined;
  const service = (await applyObject(
    host,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels: objectLabels(name) },
      // No selector: the endpoint is this machine, published by publishPodApiEndpoint.
      spec: { type: 'ClusterIP', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
    } as KubernetesObject,
    fieldManager,
  )) as KubernetesObject & { spec?: { clusterIP?: string } };
  const serviceIP = service.spec?.clusterIP;
  if (!serviceIP || serviceIP === 'None')
    throw new Error(`host Service ${namespace}/${name} has no ClusterIP`);
  return { address, serviceName: name, serviceIP, serviceUID: service.metadata?.uid ?? '' };
}

/**
 * Points the Service at the virtual API server's port on this machine (an EndpointSlice of our
 * own, as for any Service without a selector). Called on every start: the port changes.
 */
export async function publishPodApiEndpoint(
  host: KubeClients,
  namespace: string,
  access: PodApiAccess,
  port: number,
): Promise<void> {
  await applyObject(
    host,
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: access.serviceName,
        namespace,
        labels: {
          ...objectLabels(access.serviceName),
          'kubernetes.io/service-name': access.serviceName,
          'endpointslice.kubernetes.io/managed-by': 'vcluster-preview',
        },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Service', name: access.serviceName, uid: access.serviceUID },
        ],
      },
      addressType: access.address.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [access.address], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    } as KubernetesObject,
    fieldManager,
  );
}
