import type { V1Node, V1NodeAddress, V1NodeCondition } from '@kubernetes/client-node';
import { sha256Hex } from './names.ts';

export const FAKE_NODE_LABEL = 'vcluster.loft.sh/fake-node';

/** What a fake node advertises: generous, fixed capacity, as vcluster does. */
export const FAKE_NODE_CAPACITY: Readonly<Record<string, string>> = {
  cpu: '16',
  memory: '32Gi',
  pods: '110',
  'ephemeral-storage': '100Gi',
  'hugepages-1Gi': '0',
  'hugepages-2Mi': '0',
};

export interface FakeNodeOptions {
  /** Used for condition heartbeat and transition times. */
  now: Date;
  /** Address shown as InternalIP (vcluster uses a per-node service IP for kubelet proxying). */
  internalIP?: string;
  kubeletPort?: number;
  kubeletVersion?: string;
}

// Stable, GUID-shaped identifiers derived from the node name (pure, unlike vcluster's random ones).
function stableId(nodeName: string, purpose: string): string {
  const h = sha256Hex(`${purpose}/${nodeName}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function conditions(now: Date): V1NodeCondition[] {
  const at = (type: string, status: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: new Date(now.getTime()),
    lastTransitionTime: new Date(now.getTime()),
  });
  return [
    at('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    at('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    at('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    at('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

/**
 * The fake virtual node standing for a host node that runs synced pods: same name, so the virtual
 * pod can be bound to it. Create it, then write `status` through the status subresource.
 */
export function fakeNode(nodeName: string, options: FakeNodeOptions): V1Node {
  const addresses: V1NodeAddress[] = [];
  if (options.internalIP) addresses.push({ type: 'InternalIP', address: options.internalIP });
  addresses.push({ type: 'Hostname', address: `fake-${nodeName}` });
  const version = options.kubeletVersion ?? 'v1.30.0';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        [FAKE_NODE_LABEL]: 'true',
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': `fake-${nodeName}`,
        'kubernetes.io/os': 'linux',
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'false',
      },
    },
    spec: { taints: [] },
    status: {
      capacity: { ...FAKE_NODE_CAPACITY },
      allocatable: { ...FAKE_NODE_CAPACITY },
      conditions: conditions(options.now),
      addresses,
      // the API field really is `Port` (capitalised) in Kubernetes' JSON
      daemonEndpoints: { kubeletEndpoint: { Port: options.kubeletPort ?? 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: stableId(nodeName, 'boot'),
        machineID: stableId(nodeName, 'machine'),
        systemUUID: stableId(nodeName, 'system'),
        containerRuntimeVersion: 'containerd://1.7.0',
        kernelVersion: '6.1.0-fakelinux',
        kubeProxyVersion: version,
        kubeletVersion: version,
        operatingSystem: 'linux',
        osImage: 'Fake Kubernetes Image',
      },
      images: [],
    },
  };
}

/** Where the fake nodes' kubelet API answers: their InternalIP and kubelet port. */
export interface KubeletEndpoint {
  address: string;
  port: number;
}

/**
 * The status merge patch that points an existing fake node at `endpoint` (InternalIP first, so an
 * API server preferring InternalIP dials it), or undefined when it already does.
 */
export function fakeNodeEndpointPatch(
  node: V1Node,
  endpoint: KubeletEndpoint,
): Pick<NonNullable<V1Node['status']>, 'addresses' | 'daemonEndpoints'> | undefined {
  const addresses = node.status?.addresses ?? [];
  const internal = addresses.filter((a) => a.type === 'InternalIP');
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (internal.length === 1 && internal[0]?.address === endpoint.address && port === endpoint.port)
    return undefined;
  return {
    addresses: [
      { type: 'InternalIP', address: endpoint.address },
      ...addresses.filter((a) => a.type !== 'InternalIP'),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: endpoint.port } },
  };
}

/** Conditions with fresh heartbeats, keeping each condition's transition time. */
export function fakeNodeHeartbeat(node: V1Node, now: Date): V1NodeCondition[] {
  const fresh = conditions(now);
  return fresh.map((c) => {
    const old = node.status?.conditions?.find((o) => o.type === c.type);
    if (!old || old.status !== c.status) return c;
    return { ...c, lastTransitionTime: old.lastTransitionTime };
  });
}

/** Whether a virtual node is one of the syncer's fake nodes (and so may be deleted when unused). */
export function isFakeNode(node: V1Node): boolean {
  return node.metadata?.labels?.[FAKE_NODE_LABEL] === 'true';
}
