import type { V1Namespace } from '@kubernetes/client-node';
import { annotations, labels, type VirtualClusterInfo, type VirtualClusterState } from '../../provider.ts';

const states: readonly VirtualClusterState[] = ['creating', 'running', 'paused', 'failed'];

/** What a namespace made by this provider says about its virtual cluster (pure). */
export function infoFromNamespace(namespace: V1Namespace): VirtualClusterInfo | undefined {
  const nsLabels = namespace.metadata?.labels ?? {};
  const name = nsLabels[labels.vcluster];
  if (!name || nsLabels[labels.provider] !== 'kubernetes') return undefined;
  const nsAnnotations = namespace.metadata?.annotations ?? {};
  const state = nsAnnotations[annotations.state] as VirtualClusterState | undefined;
  return {
    name,
    namespace: namespace.metadata?.name ?? '',
    provider: 'kubernetes',
    state: state && states.includes(state) ? state : 'creating',
    createdAt: nsAnnotations[annotations.createdAt],
    labels: nsLabels,
    annotations: nsAnnotations,
  };
}
