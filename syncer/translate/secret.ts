import type { V1Secret } from '@kubernetes/client-node';
import type { TranslateContext } from './context.ts';
import { deepEqual, type MapPatch, mapPatch } from './equal.ts';
import { hostMetadata, hostMetadataPatch, type MetadataPatch, requireVirtualKey } from './metadata.ts';

/** JSON merge patch of a host secret. */
export interface SecretPatch {
  metadata?: MetadataPatch;
  data?: MapPatch;
  immutable?: boolean;
}

const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';

/**
 * Host type of a virtual secret. A service-account-token secret would be emptied or deleted by the
 * host's token controller (the account does not exist on the host), so it is stored as Opaque.
 */
export function hostSecretType(vSecret: V1Secret): string | undefined {
  return vSecret.type === SERVICE_ACCOUNT_TOKEN_TYPE ? 'Opaque' : vSecret.type;
}

// stringData is write-only and overrides data, as the API server would merge it
function secretData(vSecret: V1Secret): Record<string, string> | undefined {
  if (!vSecret.stringData) return vSecret.data ? { ...vSecret.data } : undefined;
  const data: Record<string, string> = { ...(vSecret.data ?? {}) };
  for (const [k, v] of Object.entries(vSecret.stringData))
    data[k] = Buffer.from(v, 'utf8').toString('base64');
  return data;
}

/** The host secret for a virtual secret. */
export function secretToHost(vSecret: V1Secret, ctx: TranslateContext): V1Secret {
  requireVirtualKey(vSecret, 'Secret');
  const out: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: hostMetadata(vSecret, ctx, 'Secret') };
  const type = hostSecretType(vSecret);
  if (type) out.type = type;
  const data = secretData(vSecret);
  if (data) out.data = data;
  if (vSecret.immutable !== undefined) out.immutable = vSecret.immutable;
  return out;
}

/** The type is immutable, and so is the data of an immutable secret: those changes need a new object. */
export function secretNeedsRecreate(vSecret: V1Secret, hostSecret: V1Secret): boolean {
  if ((hostSecretType(vSecret) ?? 'Opaque') !== (hostSecret.type ?? 'Opaque')) return true;
  if (hostSecret.immutable !== true) return false;
  return vSecret.immutable !== true || !deepEqual(secretData(vSecret) ?? {}, hostSecret.data ?? {});
}

/** The merge patch bringing a host secret in line with its virtual secret, or undefined. */
export function secretUpdateToHost(
  vSecret: V1Secret,
  hostSecret: V1Secret,
  ctx: TranslateContext,
): SecretPatch | undefined {
  const patch: SecretPatch = {};
  const data = mapPatch(hostSecret.data, secretData(vSecret));
  if (data) patch.data = data;
  if (vSecret.immutable === true && hostSecret.immutable !== true) patch.immutable = true;
  const metadata = hostMetadataPatch(vSecret, hostSecret, ctx, 'Secret');
  if (metadata) patch.metadata = metadata;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
