import type { PodSecurityLevel } from '../syncer/policy/pod-security.ts';

export { POD_SECURITY_LEVELS, type PodSecurityLevel } from '../syncer/policy/pod-security.ts';

/** The labels and annotations that mark what vcluster-preview made in a host cluster (the source of truth). */
export const labels = {
  /** On the host namespace: the virtual cluster living in it. */
  vcluster: 'vcluster-preview.dev/vcluster',
  provider: 'vcluster-preview.dev/provider',
  /** For previews: which repository and pull request it serves. */
  repo: 'vcluster-preview.dev/repo',
  pullRequest: 'vcluster-preview.dev/pull-request',
  /** For previews: the GitHub App installation, to count live previews per installation. */
  installation: 'vcluster-preview.dev/installation',
  /** For previews: a digest of the preview's host name, so that no two live previews hold one host. */
  host: 'vcluster-preview.dev/host',
  /** For previews of a working tree (`vcluster-preview preview DIR`): the tree's name. */
  tree: 'vcluster-preview.dev/tree',
} as const;

export const annotations = {
  state: 'vcluster-preview.dev/state',
  createdAt: 'vcluster-preview.dev/created-at',
  /** Whether the namespace was made by us (and so is deleted with the virtual cluster). */
  createdNamespace: 'vcluster-preview.dev/created-namespace',
  commit: 'vcluster-preview.dev/commit',
  lastActivity: 'vcluster-preview.dev/last-activity',
  /** For previews: the repo config's `ttl` and `sleepAfter` as written, so a sweep needs no GitHub read. */
  ttl: 'vcluster-preview.dev/ttl',
  sleepAfter: 'vcluster-preview.dev/sleep-after',
  /** For previews of a working tree: the folder it was made from. */
  treeDir: 'vcluster-preview.dev/tree-dir',
  /** For previews of a working tree: its last run (state, steps, URL, error) as JSON, see preview/tree-preview.ts. */
  lastRun: 'vcluster-preview.dev/last-run',
} as const;

export type ProviderName = 'local' | 'kubernetes';
export type VirtualClusterState = 'creating' | 'running' | 'paused' | 'failed';

export interface IsolationOptions {
  /** ResourceQuota + LimitRange (default on). */
  quota?: boolean;
  /** NetworkPolicies: workloads reachable only from the same virtual cluster and the ingress controller (default on). */
  networkPolicy?: boolean;
  /** Pod Security Standard the syncer enforces (default baseline). */
  podSecurityStandard?: PodSecurityLevel;
}

export interface CreateOptions {
  name: string;
  /** Host namespace (default `vcluster-<name>`, as the vcluster CLI does). */
  namespace?: string;
  /** Extra labels for the host namespace (e.g. repo and pull request of a preview). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  isolation?: IsolationOptions;
  /** Ingress hosts the syncer allows (e.g. `pr-12.preview.example.com`). */
  allowedHostSuffix?: string;
  /** Progress messages. */
  report?: (message: string) => void;
}

export interface VirtualClusterInfo {
  name: string;
  namespace: string;
  provider: ProviderName;
  state: VirtualClusterState;
  createdAt?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface VirtualClusterRef {
  name: string;
  namespace?: string;
}

/**
 * One way of running virtual clusters in a host cluster. Every call is idempotent: creating what
 * exists returns it, deleting what is gone succeeds, and delete removes everything a create made,
 * also after a create that was interrupted at any step.
 */
export interface VirtualClusterProvider {
  readonly name: ProviderName;
  create(options: CreateOptions): Promise<VirtualClusterInfo>;
  delete(ref: VirtualClusterRef): Promise<void>;
  pause(ref: VirtualClusterRef): Promise<VirtualClusterInfo>;
  resume(ref: VirtualClusterRef): Promise<VirtualClusterInfo>;
  list(): Promise<VirtualClusterInfo[]>;
  get(ref: VirtualClusterRef): Promise<VirtualClusterInfo | undefined>;
  /** The virtual cluster's admin kubeconfig (YAML). */
  kubeconfig(ref: VirtualClusterRef): Promise<string>;
  /** The last lines its syncer logged, raw (see syncer-log.ts), for failure reports; none when it has no log. */
  syncerLog(ref: VirtualClusterRef, tailLines: number): Promise<string[]>;
}

/** A user-facing error: what was wrong and what to do. */
export class VirtualClusterError extends Error {
  override name = 'VirtualClusterError';
}

/** `vcluster-<name>`, the vcluster CLI's default namespace. */
export function namespaceFor(ref: VirtualClusterRef): string {
  return ref.namespace ?? `vcluster-${ref.name}`;
}

const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Names become parts of host object names and DNS labels: hold them to what Kubernetes accepts. */
export function validateName(name: string, what = 'virtual cluster name'): void {
  if (!dnsLabel.test(name) || name.length > 52) {
    throw new VirtualClusterError(
      `${what} "${name}" is not valid: use at most 52 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. "pr-12")`,
    );
  }
}
