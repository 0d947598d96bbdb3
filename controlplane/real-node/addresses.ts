/**
 * The addresses of one real node. Each real node lives in a network namespace of its own, joined to
 * this machine by a veth pair, so several (a test run's and `host up`'s) can run side by side and
 * stopping one leaves no interface, route or iptables rule on the machine. `slot` numbers them.
 */
export interface RealNodeAddresses {
  slot: number;
  /** The node's network namespace (`/run/netns/<name>`). */
  netns: string;
  /** The machine's end of the veth pair, and its address: the API server and registry as pods see them. */
  hostInterface: string;
  hostIP: string;
  /** The node's end, inside the namespace: the node's InternalIP (kubelet's API, kube-proxy). */
  nodeInterface: string;
  nodeIP: string;
  /** /30 of the veth pair. */
  linkCIDR: string;
  /** Pod addresses (CNI bridge, host-local). */
  podCIDR: string;
  bridge: string;
  bridgeIP: string;
  /** The host cluster's Service ClusterIP range, routed from this machine into the namespace. */
  serviceCIDR: string;
  /** The API server's own Service address (first of the range): its serving certificate names it. */
  kubernetesServiceIP: string;
}

export const MAX_REAL_NODES = 8;

/** Pure: every address of slot `slot` (0 ≤ slot < MAX_REAL_NODES). */
export function realNodeAddresses(slot: number): RealNodeAddresses {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_REAL_NODES) {
    throw new RangeError(`real node slot must be 0..${MAX_REAL_NODES - 1}, got ${slot}`);
  }
  return {
    slot,
    netns: `vcp-node-${slot}`,
    hostInterface: `vcp-node-${slot}`,
    hostIP: `10.87.${slot}.1`,
    nodeInterface: 'eth0',
    nodeIP: `10.87.${slot}.2`,
    linkCIDR: `10.87.${slot}.0/30`,
    podCIDR: `10.88.${slot}.0/24`,
    bridge: 'cni0',
    bridgeIP: `10.88.${slot}.1`,
    serviceCIDR: `10.${96 + slot}.0.0/16`,
    kubernetesServiceIP: `10.${96 + slot}.0.1`,
  };
}
