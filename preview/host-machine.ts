import { networkInterfaces } from 'node:os';
import { isNotFound, type KubeClients } from '../kube/client.ts';

/**
 * This machine as the host's pods see it. On the embedded host with a real node, the host's DNS,
 * its ingress controller and local virtual API servers are processes of this machine, not pods:
 * both providers need its address to let those in through NetworkPolicies.
 */

/** The one-address CIDR of an IPv4 or IPv6 address, for a NetworkPolicy ipBlock. */
export const addressCidr = (address: string) => `${address}/${address.includes(':') ? 128 : 32}`;

/** The IPv4 and IPv6 addresses of this machine's interfaces, loopback left out. */
export function localAddresses(): Set<string> {
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (!entry.internal) addresses.add(entry.address);
  }
  return addresses;
}

/**
 * The address of this machine that the host's pods reach, if there is one: where the host API
 * server advertises itself (the endpoints of `default/kubernetes`) when that is an address of this
 * machine, as on the embedded host with a real node. A remote host cluster, one whose API server
 * advertises only loopback (kwok nodes, no pod runs for real), or a worker running in a pod has none.
 */
export function podReachableAddress(endpointAddresses: string[], local: Set<string>): string | undefined {
  return endpointAddresses.find((address) => local.has(address));
}

async function hostApiEndpointAddresses(host: KubeClients): Promise<string[]> {
  try {
    const endpoints = await host.core.readNamespacedEndpoints({ name: 'kubernetes', namespace: 'default' });
    return (endpoints.subsets ?? []).flatMap((subset) => (subset.addresses ?? []).map((a) => a.ip));
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** This machine's address as the host's pods reach it (the embedded host with a real node), if any. */
export async function machineAddressForPods(host: KubeClients): Promise<string | undefined> {
  return podReachableAddress(await hostApiEndpointAddresses(host), localAddresses());
}
