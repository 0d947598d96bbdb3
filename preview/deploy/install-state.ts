import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { applyObject } from '../../kube/apply.ts';
import { ignoreNotFound, type KubeClients } from '../../kube/client.ts';
import { INVENTORY_NAME, INVENTORY_NAMESPACE } from './inventory.ts';
import { FIELD_MANAGER } from './objects.ts';

/**
 * Whether a virtual cluster's first deploy (its install) has finished, post-install hooks included,
 * noted on the inventory ConfigMap. Without it a retry of a failed install would see the inventory
 * and deploy as an upgrade, and the post-install hooks (the seed Job) would never run. Its own field
 * manager, so the inventory's applies leave it alone.
 */

export const INSTALL_ANNOTATION = 'vcluster-preview.dev/install';
const INSTALL_MANAGER = `${FIELD_MANAGER}-install`;

export type InstallState = 'pending' | 'done';

/**
 * This virtual cluster's install state, given what the last deploy applied: `pending` while no
 * deploy finished (nothing applied yet, or an install that failed); a cluster deployed before the
 * note existed counts as installed.
 */
export async function readInstallState(
  virtual: KubeClients,
  previous: readonly unknown[],
): Promise<InstallState> {
  let configMap: V1ConfigMap | undefined;
  try {
    configMap = await virtual.core.readNamespacedConfigMap({
      name: INVENTORY_NAME,
      namespace: INVENTORY_NAMESPACE,
    });
  } catch (error) {
    ignoreNotFound(error);
  }
  const noted = configMap?.metadata?.annotations?.[INSTALL_ANNOTATION];
  if (noted === 'pending' || noted === 'done') return noted;
  return previous.length === 0 ? 'pending' : 'done';
}

/** Notes the install state on the inventory ConfigMap (making it, empty, on a first deploy). */
export async function noteInstallState(virtual: KubeClients, state: InstallState): Promise<void> {
  await applyObject(
    virtual,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: INVENTORY_NAME,
        namespace: INVENTORY_NAMESPACE,
        annotations: { [INSTALL_ANNOTATION]: state },
      },
    } as KubernetesObject,
    INSTALL_MANAGER,
  );
}
