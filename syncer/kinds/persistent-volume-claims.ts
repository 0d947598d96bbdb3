import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { ignoreNotFound, isConflict } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import { deleteHostObject } from '../engine/delete-host-object.ts';
import {
  type DeleteHost,
  RequeueAfter,
  type ResourceSyncer,
  type SyncContext,
} from '../engine/resource-syncer.ts';
import { storageClassRefusal, type VolumeFenceOptions } from '../policy/volume-fence.ts';
import { deepEqual } from '../translate/equal.ts';
import { UID_ANNOTATION } from '../translate/metadata.ts';
import {
  droppedVolumeBinding,
  type PersistentVolumeMode,
  type PvcOptions,
  pvcStatusToVirtual,
  pvcToHost,
  pvcUpdateToHost,
  pvcUpdateToVirtual,
} from '../translate/pvc.ts';

/** Event reason when the volume a virtual claim names (or its PV selector) was left out of its host claim. */
export const VOLUME_BINDING_DROPPED_REASON = 'VolumeBindingDropped';
/** Event reason when a claim names a storage class the operator has not allowed. */
export const STORAGE_CLASS_REFUSED_REASON = 'StorageClassRefused';

const deleteHost: DeleteHost = (host, request) => host.core.deleteNamespacedPersistentVolumeClaim(request);

export interface PersistentVolumeClaimSyncerOptions {
  /** How persistent volumes appear in the virtual cluster (default `fake`, as vcluster). */
  persistentVolumes?: PersistentVolumeMode;
  /** Storage classes claims may name (`--allow-storage-classes`); unset, any. */
  volumeFence?: VolumeFenceOptions;
}

/**
 * PersistentVolumeClaims: down to the host, whose storage binds and provisions them; status, the
 * bound volume's name and the binding annotations back up. Deleting either side deletes the pair.
 * As in vcluster, a host claim whose `object-uid` differs (the virtual claim was deleted and made
 * again under the same name) is adopted, not recreated: the data stays.
 */
export function persistentVolumeClaimSyncer(
  options: PersistentVolumeClaimSyncerOptions = {},
): ResourceSyncer<V1PersistentVolumeClaim> {
  const pvcOptions: PvcOptions = { persistentVolumes: options.persistentVolumes ?? 'fake' };
  // Virtual claims whose host claim this syncer has seen. A virtual claim in this set without a
  // host claim lost it (deleted on the host), and goes as well; any other one is new and is created.
  // After a restart the set is empty, so a claim whose host copy vanished meanwhile is made again.
  const seenOnHost = new Set<string>();

  return {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    recreateOnUidChange: false,
    resource: 'persistentvolumeclaims',
    listVirtual: (virtual) => virtual.core.listPersistentVolumeClaimForAllNamespaces(),
    listHost: (host, query) => host.core.listNamespacedPersistentVolumeClaim(query),
    deleteHost,

    async syncToHost(context, pvc) {
      const uid = pvc.metadata?.uid ?? '';
      if (pvc.metadata?.deletionTimestamp) {
        // Going away and nothing on the host: its finalizers are the virtual cluster's business.
        seenOnHost.delete(uid);
        return 'none';
      }
      if (seenOnHost.has(uid)) {
        seenOnHost.delete(uid);
        await deleteVirtualClaim(context, pvc);
        return 'delete';
      }
      const refused = storageClassRefusal(pvc.spec, options.volumeFence ?? {});
      if (refused) {
        // Retried on every change of the claim; the recorder writes the same message once a minute.
        void context.recorder.warning(
          { ...pvc, kind: 'PersistentVolumeClaim', apiVersion: 'v1' },
          STORAGE_CLASS_REFUSED_REASON,
          `not synced to the host: ${refused}`,
        );
        return 'skip';
      }
      const dropped = droppedVolumeBinding(pvc, pvcOptions);
      if (dropped.length > 0) {
        void context.recorder.warning(
          { ...pvc, kind: 'PersistentVolumeClaim', apiVersion: 'v1' },
          VOLUME_BINDING_DROPPED_REASON,
          `${dropped.join(' and ')} left out on the host: host volumes are shared by every preview, so a claim binds the volume the host provisions for it`,
        );
      }
      await context.host.core.createNamespacedPersistentVolumeClaim({
        namespace: context.translate.hostNamespace,
        body: pvcToHost(pvc, context.translate, pvcOptions),
      });
      return 'create';
    },

    async sync(context, pvc, hostPvc) {
      const { host, virtual, translate } = context;
      const uid = pvc.metadata?.uid ?? '';
      const hostName = hostPvc.metadata?.name ?? '';
      const name = pvc.metadata?.name ?? '';
      const namespace = pvc.metadata?.namespace ?? '';
      if (pvc.metadata?.deletionTimestamp) {
        seenOnHost.delete(uid);
        // The virtual claim waits for its own finalizers (pvc-protection); the host one for the host's.
        return deleteHostObject(context, hostPvc, deleteHost);
      }
      const hostUid = hostPvc.metadata?.annotations?.[UID_ANNOTATION];
      if (hostPvc.metadata?.deletionTimestamp) {
        if (hostUid && hostUid !== uid) {
          // The host copy of an earlier claim of this name is on its way out: create ours after it.
          throw new RequeueAfter(1000, 'host claim of an earlier virtual claim is being deleted');
        }
        seenOnHost.delete(uid);
        await deleteVirtualClaim(context, pvc);
        return 'delete';
      }
      seenOnHost.add(uid);

      let action: 'none' | 'update' | 'status' = 'none';
      const up = pvcUpdateToVirtual(hostPvc, pvc, pvcOptions);
      if (up) {
        const body: { metadata?: { annotations: unknown }; spec?: { volumeName: string } } = {};
        if (up.annotations) body.metadata = { annotations: up.annotations };
        if (up.volumeName) body.spec = { volumeName: up.volumeName };
        await virtual.core.patchNamespacedPersistentVolumeClaim({ name, namespace, body }, mergePatch);
        action = 'status';
      }
      const status = pvcStatusToVirtual(hostPvc, pvc);
      if (status) {
        await virtual.core.patchNamespacedPersistentVolumeClaimStatus(
          { name, namespace, body: { status: mergePatchBetween(pvc.status ?? {}, status) } },
          mergePatch,
        );
        action = 'status';
      }
      const down = pvcUpdateToHost(pvc, hostPvc, translate);
      if (down) {
        await host.core.patchNamespacedPersistentVolumeClaim(
          { name: hostName, namespace: translate.hostNamespace, body: down },
          mergePatch,
        );
        action = 'update';
      }
      return action;
    },

    hostOnly(context, hostPvc) {
      // The virtual claim is gone: so is the pair, and what this syncer remembered of it.
      const uid = hostPvc.metadata?.annotations?.[UID_ANNOTATION];
      if (uid) seenOnHost.delete(uid);
      return deleteHostObject(context, hostPvc, deleteHost);
    },
  };
}

/** The host claim is gone: the virtual one follows (once no virtual pod uses it, pvc-protection lets it go). */
async function deleteVirtualClaim(context: SyncContext, pvc: V1PersistentVolumeClaim): Promise<void> {
  try {
    await context.virtual.core.deleteNamespacedPersistentVolumeClaim({
      name: pvc.metadata?.name ?? '',
      namespace: pvc.metadata?.namespace ?? '',
      body: { preconditions: { uid: pvc.metadata?.uid } },
    });
  } catch (error) {
    // 409: the UID precondition failed, a newer claim holds the name; ours is gone either way.
    if (!isConflict(error)) ignoreNotFound(error);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * The JSON merge patch turning `current` into `desired` exactly: nested objects patched key by key,
 * keys missing from `desired` removed with `null`, arrays and scalars replaced.
 */
function mergePatchBetween(current: unknown, desired: unknown): unknown {
  if (!isRecord(current) || !isRecord(desired)) return desired;
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(desired)) {
    if (value !== undefined && !deepEqual(current[key], value))
      patch[key] = mergePatchBetween(current[key], value);
  }
  for (const [key, value] of Object.entries(current)) {
    if (value !== undefined && desired[key] === undefined) patch[key] = null;
  }
  return patch;
}
