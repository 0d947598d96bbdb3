import type { KubernetesObject } from '@kubernetes/client-node';
import { objectPath, rawRequest } from '../../kube/apply.ts';
import type { KubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { describeRef, refOf } from './objects.ts';

/**
 * Deletes `object` if it exists and waits until it is gone, its dependents first (a Job's pods), so
 * the same name can be created again: a hook's last run (`before-hook-creation`), a Job whose
 * immutable pod template changed.
 */
export async function deleteAndWait(virtual: KubeClients, object: KubernetesObject, timeoutMs = 60_000) {
  const path = await objectPath(virtual, object);
  const deleted = await rawRequest(
    virtual,
    'DELETE',
    path,
    JSON.stringify({ apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground' }),
  );
  if (deleted.status === 404) return;
  if (deleted.status >= 300)
    throw new Error(`could not delete ${describeRef(refOf(object))}: ${deleted.body}`);
  await waitUntil(async () => (await rawRequest(virtual, 'GET', path)).status === 404, {
    what: `${describeRef(refOf(object))} to be deleted`,
    timeoutMs,
  });
}
