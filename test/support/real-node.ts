import { execFileSync } from 'node:child_process';

/** What of a real node a test looks at: its network namespace and containerd's socket. */
export interface RealNodeHandle {
  netns: string;
  containerdSocket: string;
}

/** The node's containers (sandboxes included) of one host namespace, as containerd lists them. */
export function containersOf(node: RealNodeHandle, namespace: string): string[] {
  return execFileSync('ctr', [
    '--address',
    node.containerdSocket,
    '--namespace',
    'k8s.io',
    'containers',
    'list',
    '--quiet',
    `labels."io.kubernetes.pod.namespace"==${namespace}`,
  ])
    .toString()
    .split('\n')
    .filter(Boolean);
}

/**
 * Those of them whose process still runs (a containerd task). Dead ones are only metadata, which
 * kubelet's garbage collection removes once a minute: what a stopped preview must not leave is a process.
 */
export function runningContainersOf(node: RealNodeHandle, namespace: string): string[] {
  const ids = containersOf(node, namespace);
  if (ids.length === 0) return [];
  const running = new Set(
    execFileSync('ctr', ['--address', node.containerdSocket, '--namespace', 'k8s.io', 'tasks', 'list'])
      .toString()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter(([, , status]) => status === 'RUNNING')
      .map(([id]) => id),
  );
  return ids.filter((id) => running.has(id));
}

/** The node's ends of its pods' veth pairs: one per running pod sandbox. */
export function vethsOf(node: RealNodeHandle): string[] {
  return execFileSync('ip', ['-n', node.netns, '-o', 'link', 'show', 'type', 'veth'])
    .toString()
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0])
    .filter((name): name is string => !!name);
}

/** kube-proxy's iptables rules in the node's namespace that name Services of one namespace. */
export function rulesMentioning(node: RealNodeHandle, namespace: string): string[] {
  return execFileSync('ip', ['netns', 'exec', node.netns, 'iptables-save'])
    .toString()
    .split('\n')
    .filter((line) => line.includes(`${namespace}/`));
}
