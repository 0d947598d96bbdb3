import type { CoreV1Api, KubernetesObject } from '@kubernetes/client-node';
import { applyObject } from '../../kube/apply.ts';
import { isNotFound, type KubeClients } from '../../kube/client.ts';
import { FIELD_MANAGER } from './objects.ts';

/**
 * Copies operator-allowed host Secrets into a virtual cluster, only the keys asked for. Which
 * Secrets a preview may have is decided before (app/host-secrets); this only reads and writes.
 * Values never reach a log or an error message: only names of Secrets and keys do.
 */

export interface HostSecretCopy {
  /** The Secret's name in the host namespace. */
  from: string;
  keys: readonly string[];
  /** Where it goes in the virtual cluster. */
  to: { namespace: string; name: string };
}

/** A host Secret or one of its keys is missing: the operator (or the config's keys) must change. */
export class HostSecretError extends Error {
  override name = 'HostSecretError';
}

/** Marks a copied Secret, so a person in the virtual cluster sees where it came from. */
export const COPIED_FROM_ANNOTATION = 'vcluster-preview.dev/copied-from-host-secret';

/** The host Secret's data for `keys` (base64 as the API gives it), or a HostSecretError naming what is missing. */
async function readKeys(
  host: Pick<CoreV1Api, 'readNamespacedSecret'>,
  namespace: string,
  copy: HostSecretCopy,
): Promise<Record<string, string>> {
  let data: Record<string, string>;
  try {
    data = (await host.readNamespacedSecret({ name: copy.from, namespace })).data ?? {};
  } catch (error) {
    if (isNotFound(error))
      throw new HostSecretError(
        `the host Secret ${namespace}/${copy.from} does not exist: ask the service's operator to create it (External Secrets Operator can keep it filled), or remove it from secrets:`,
      );
    throw error;
  }
  const missing = copy.keys.filter((key) => !Object.hasOwn(data, key));
  if (missing.length > 0)
    throw new HostSecretError(
      `the host Secret ${namespace}/${copy.from} has no key ${missing.join(', ')} (it has ${Object.keys(data).sort().join(', ') || 'no keys'}): fix keys: in secrets:, or ask the operator to add ${missing.length > 1 ? 'them' : 'it'}`,
    );
  return Object.fromEntries(copy.keys.map((key) => [key, data[key] as string]));
}

/**
 * Reads each host Secret from `hostNamespace` and server-side-applies it, with the listed keys only,
 * into the virtual cluster (creating its namespace when needed). Resolves with `namespace/name` of each copy.
 */
export async function copyHostSecrets(options: {
  host: Pick<CoreV1Api, 'readNamespacedSecret'>;
  hostNamespace: string;
  virtual: KubeClients;
  copies: readonly HostSecretCopy[];
}): Promise<string[]> {
  const { host, hostNamespace, virtual, copies } = options;
  // Every Secret is read before any is written: a missing one leaves the virtual cluster as it was.
  const read = [];
  for (const copy of copies) read.push({ copy, data: await readKeys(host, hostNamespace, copy) });
  const namespaces = new Set(copies.map((copy) => copy.to.namespace));
  for (const namespace of namespaces) {
    await applyObject(
      virtual,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } as KubernetesObject,
      FIELD_MANAGER,
    );
  }
  const written: string[] = [];
  for (const { copy, data } of read) {
    await applyObject(
      virtual,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: copy.to.name,
          namespace: copy.to.namespace,
          annotations: { [COPIED_FROM_ANNOTATION]: `${hostNamespace}/${copy.from}` },
        },
        type: 'Opaque',
        data,
      } as KubernetesObject,
      FIELD_MANAGER,
    );
    written.push(`${copy.to.namespace}/${copy.to.name}`);
  }
  return written;
}
