import type { V1PersistentVolumeClaimSpec, V1PodSpec } from '@kubernetes/client-node';

/**
 * Which volumes a pull request's pod may mount on the host (pure): an allowlist, at every Pod
 * Security level, because any other source (hostPath, nfs, iscsi, a cloud disk…) reaches storage
 * outside the preview. `csi` only for drivers the operator allows (`--allow-csi-drivers`); the
 * storage class of a claim only from `--allow-storage-classes` when that is set.
 */

/** Volume sources every preview may use. */
export const ALLOWED_VOLUME_TYPES: ReadonlySet<string> = new Set([
  'configMap',
  'secret',
  'emptyDir',
  'projected',
  'downwardAPI',
  'persistentVolumeClaim',
  'ephemeral',
]);

export interface VolumeFenceOptions {
  /** CSI drivers inline `csi` volumes may name (default none). */
  allowedCsiDrivers?: readonly string[];
  /** Storage classes claims may name; unset, any (an unset class is the host's default). */
  allowedStorageClasses?: readonly string[];
}

const sourcesOf = (volume: object) =>
  Object.keys(volume).filter((key) => key !== 'name' && (volume as Record<string, unknown>)[key] != null);

/** Why a claim's storage class is refused, or undefined when it may reach the host. */
export function storageClassRefusal(
  spec: V1PersistentVolumeClaimSpec | undefined,
  options: VolumeFenceOptions,
): string | undefined {
  const allowed = options.allowedStorageClasses;
  const storageClass = spec?.storageClassName;
  // An unset class is the host's default class, which is the operator's own choice.
  if (!allowed || storageClass === undefined || storageClass === null) return undefined;
  if (allowed.includes(storageClass)) return undefined;
  return `storage class "${storageClass}" is not allowed on this host; use ${
    allowed.length > 0 ? `one of ${allowed.map((name) => `"${name}"`).join(', ')}` : 'none'
  } or leave storageClassName unset for the host's default`;
}

/** The refusals of a pod's volumes, one per volume, each naming it, its type and what to do; empty when all may reach the host. */
export function volumeRefusals(spec: V1PodSpec | undefined, options: VolumeFenceOptions = {}): string[] {
  const refusals: string[] = [];
  const drivers = options.allowedCsiDrivers ?? [];
  for (const volume of spec?.volumes ?? []) {
    const sources = sourcesOf(volume);
    const type = sources[0] ?? 'unknown';
    if (volume.csi) {
      if (!drivers.includes(volume.csi.driver))
        refusals.push(
          `volume "${volume.name}" uses CSI driver "${volume.csi.driver}", which the operator has not allowed (${
            drivers.length > 0 ? `allowed: ${drivers.join(', ')}` : 'none is'
          }); use a persistentVolumeClaim instead`,
        );
      continue;
    }
    if (!ALLOWED_VOLUME_TYPES.has(type)) {
      refusals.push(
        `volume "${volume.name}" has type ${type}, which previews may not use; use one of ${[...ALLOWED_VOLUME_TYPES].join(', ')}`,
      );
      continue;
    }
    const claimClass = storageClassRefusal(volume.ephemeral?.volumeClaimTemplate?.spec, options);
    if (claimClass) refusals.push(`volume "${volume.name}" (ephemeral): ${claimClass}`);
  }
  return refusals;
}
