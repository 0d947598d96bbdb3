import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { parseAllDocuments } from 'yaml';
import { applyObject } from '../kube/apply.ts';
import { isNotFound, type KubeClients, statusCodeOf } from '../kube/client.ts';
import { SYNCER_FIELD_MANAGER } from './kubeconfig-secret.ts';

/** The key of the chart's CoreDNS ConfigMap that holds the manifests. */
export const COREDNS_MANIFESTS_KEY = 'coredns.yaml';

/** The CoreDNS manifests are missing or broken: a configuration error, not worth retrying. */
export class CoreDnsManifestError extends Error {
  override name = 'CoreDnsManifestError';
}

/** Every non-empty document of a multi-document YAML, each checked to be a Kubernetes object. */
export function parseManifests(yaml: string, source = COREDNS_MANIFESTS_KEY): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  parseAllDocuments(yaml).forEach((document, index) => {
    if (document.errors.length > 0)
      throw new CoreDnsManifestError(
        `${source}: document ${index + 1} is not valid YAML: ${document.errors[0]?.message}`,
      );
    const object = document.toJS() as KubernetesObject | null;
    if (object === null || object === undefined) return;
    if (typeof object !== 'object' || !object.apiVersion || !object.kind || !object.metadata?.name)
      throw new CoreDnsManifestError(
        `${source}: document ${index + 1} is not a Kubernetes object (apiVersion, kind and metadata.name are required)`,
      );
    objects.push(object);
  });
  return objects;
}

export interface ApplyCoreDnsOptions {
  /** The host ConfigMap (the chart's `<release>-coredns`) and its namespace. */
  configMap: string;
  hostNamespace: string;
  logger?: Logger;
  /** How long to keep retrying while the virtual API server refuses (default 120 s). */
  timeoutMs?: number;
}

/**
 * Reads key `coredns.yaml` of the host ConfigMap and server-side applies every document into the
 * virtual cluster, in order, as field manager `vcluster-syncer` (conflicts forced). Server errors
 * are retried until the timeout (the virtual API server may still be starting); a missing
 * ConfigMap or key, or a broken manifest, fails at once. Returns the applied objects.
 */
export async function applyCoreDns(
  host: KubeClients,
  virtual: KubeClients,
  options: ApplyCoreDnsOptions,
): Promise<KubernetesObject[]> {
  const where = `host ConfigMap ${options.hostNamespace}/${options.configMap}`;
  let yaml: string | undefined;
  try {
    const configMap = await host.core.readNamespacedConfigMap({
      name: options.configMap,
      namespace: options.hostNamespace,
    });
    yaml = configMap.data?.[COREDNS_MANIFESTS_KEY];
  } catch (error) {
    if (isNotFound(error)) throw new CoreDnsManifestError(`${where} does not exist (--coredns-configmap)`);
    throw error;
  }
  if (yaml === undefined) throw new CoreDnsManifestError(`${where} has no key ${COREDNS_MANIFESTS_KEY}`);
  const objects = parseManifests(yaml, `${where}, key ${COREDNS_MANIFESTS_KEY}`);

  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    const name = `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        // kube/apply.ts sends the manifest as it is; the typed client would drop fields it models differently.
        applied.push(await applyObject(virtual, object, SYNCER_FIELD_MANAGER));
        break;
      } catch (error) {
        const code = statusCodeOf(error);
        // 4xx other than 404/409/429 is the manifest's fault: retrying will not help.
        const permanent = code !== undefined && code >= 400 && code < 500 && ![404, 409, 429].includes(code);
        if (permanent || Date.now() + delay > deadline) {
          const message = error instanceof Error ? error.message : String(error);
          throw new CoreDnsManifestError(`applying ${name} from ${where} failed: ${message}`);
        }
        options.logger?.info(
          { object: name, err: error, retryInMs: delay },
          'CoreDNS apply failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
  options.logger?.info({ objects: applied.length, configMap: where }, 'CoreDNS manifests applied');
  return applied;
}
