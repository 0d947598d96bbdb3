import type { V1Ingress, V1Secret } from '@kubernetes/client-node';
import { copyDown } from '../engine/copy-down.ts';
import type { DeleteHost, ResourceSyncer, SyncContext } from '../engine/resource-syncer.ts';
import { usedByPods } from '../engine/used-by-pods.ts';
import { ingressSecretRefs } from '../translate/ingress.ts';
import { isForceSynced } from '../translate/metadata.ts';
import { podReferences } from '../translate/pod.ts';
import { secretNeedsRecreate, secretToHost, secretUpdateToHost } from '../translate/secret.ts';

const deleteHost: DeleteHost = (host, request) => host.core.deleteNamespacedSecret(request);

/**
 * Secrets: down to the host only while a virtual pod of the same namespace uses them (volumes, env,
 * envFrom, imagePullSecrets), an ingress names them (TLS or an auth annotation, possibly from another
 * namespace), or they carry `vcluster.loft.sh/force-sync=true`; the host copy goes once unused.
 *
 * Token secrets (`<pod>-sa-token-x-…`) left by syncers that kept pod tokens in secrets carry the
 * managed-by label but no object-name annotation: the controller neither maps them to a virtual key
 * nor counts them as ours (`isManagedBy`), so this syncer leaves them to the host garbage collector.
 */
export function secretSyncer(): ResourceSyncer<V1Secret> {
  return {
    kind: 'Secret',
    apiVersion: 'v1',
    resource: 'secrets',
    listVirtual: (virtual) => virtual.core.listSecretForAllNamespaces(),
    listHost: (host, query) => host.core.listNamespacedSecret(query),
    deleteHost,
    shouldSync: (context, secret) =>
      isForceSynced(secret) ||
      usedByPods(context, secret, (pod) => podReferences(pod).secrets) ||
      usedByIngresses(context, secret),
    usedBy: ['Pod', 'Ingress'],
    // The type (and the data of an immutable secret) cannot change in place: the copy is replaced.
    ...copyDown({
      toHost: secretToHost,
      updateToHost: secretUpdateToHost,
      needsRecreate: secretNeedsRecreate,
      createHost: (host, request) => host.core.createNamespacedSecret(request),
      patchHost: (host, request, options) => host.core.patchNamespacedSecret(request, options),
      deleteHost,
    }),
  };
}

/** Whether a virtual ingress (of any namespace: auth annotations may point across) names the secret. */
function usedByIngresses(context: SyncContext, secret: V1Secret): boolean {
  const name = secret.metadata?.name;
  const namespace = secret.metadata?.namespace;
  return context
    .virtualCache<V1Ingress>('Ingress')
    .list()
    .some((ingress) =>
      ingressSecretRefs(ingress, context.translate.allowedAnnotations).some(
        (ref) => ref.name === name && ref.namespace === namespace,
      ),
    );
}
