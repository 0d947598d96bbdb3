import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { MARKER_LABEL } from '../translate/metadata.ts';
import type { ResourceSyncer, SyncContext } from './resource-syncer.ts';

/** What one informer watches and lists. */
export interface InformerSource<T extends KubernetesObject> {
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
}

/**
 * Where a kind's two informers look: every virtual namespace, and on the host only the objects
 * labelled as this virtual cluster's, in its one host namespace.
 */
export function informerSources<V extends KubernetesObject, H extends KubernetesObject>(
  syncer: Pick<ResourceSyncer<V, H>, 'apiVersion' | 'resource' | 'listVirtual' | 'listHost'>,
  { virtual, host, translate }: Pick<SyncContext, 'virtual' | 'host' | 'translate'>,
): { virtual: InformerSource<V>; host: InformerSource<H> } {
  const root = syncer.apiVersion === 'v1' ? '/api/v1' : `/apis/${syncer.apiVersion}`;
  const namespace = translate.hostNamespace;
  const labelSelector = `${MARKER_LABEL}=${translate.vclusterName}`;
  return {
    virtual: { path: `${root}/${syncer.resource}`, list: () => syncer.listVirtual(virtual) },
    host: {
      path: `${root}/namespaces/${namespace}/${syncer.resource}`,
      list: () => syncer.listHost(host, { namespace, labelSelector }),
      labelSelector,
    },
  };
}
