import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClients } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import type { TranslateContext } from '../translate/context.ts';
import { deleteHostObject } from './delete-host-object.ts';
import type { DeleteHost, ResourceSyncer } from './resource-syncer.ts';

/** What a kind copied down as data (ConfigMaps, Secrets) says of itself: its translation and host calls. */
export interface CopiedKind<T extends KubernetesObject, P> {
  toHost(virtualObject: T, translate: TranslateContext): T;
  /** The merge patch bringing the host copy in line, or undefined when it is. */
  updateToHost(virtualObject: T, hostObject: T, translate: TranslateContext): P | undefined;
  /** Whether the host copy cannot take the change in place (its type, or data of an immutable one). */
  needsRecreate(virtualObject: T, hostObject: T): boolean;
  createHost(host: KubeClients, request: { namespace: string; body: T }): Promise<unknown>;
  patchHost(
    host: KubeClients,
    request: { name: string; namespace: string; body: P },
    options: typeof mergePatch,
  ): Promise<unknown>;
  deleteHost: DeleteHost;
}

/** Create and update of a copied kind: created from the virtual object, merge-patched, replaced when it must be. */
export function copyDown<T extends KubernetesObject, P>(
  kind: CopiedKind<T, P>,
): Pick<ResourceSyncer<T>, 'syncToHost' | 'sync'> {
  return {
    async syncToHost({ host, translate }, virtualObject) {
      await kind.createHost(host, {
        namespace: translate.hostNamespace,
        body: kind.toHost(virtualObject, translate),
      });
      return 'create';
    },

    async sync(context, virtualObject, hostObject) {
      const { host, translate } = context;
      if (kind.needsRecreate(virtualObject, hostObject)) {
        await deleteHostObject(context, hostObject, kind.deleteHost);
        await kind.createHost(host, {
          namespace: translate.hostNamespace,
          body: kind.toHost(virtualObject, translate),
        });
        return 'create';
      }
      const patch = kind.updateToHost(virtualObject, hostObject, translate);
      if (!patch) return 'none';
      await kind.patchHost(
        host,
        { name: hostObject.metadata?.name ?? '', namespace: translate.hostNamespace, body: patch },
        mergePatch,
      );
      return 'update';
    },
  };
}
