import type { KubeClients } from '../kube/client.ts';
import { ignoreNotFound, kubeClients } from '../kube/client.ts';
import { mergePatch } from '../kube/patch.ts';
import { waitUntil } from '../kube/wait.ts';
import {
  DEFAULT_URL_STYLE,
  type ExposeOptions,
  exposePreview,
  PREVIEW_INGRESS_NAME,
  type PreviewUrlStyle,
  previewUrl,
} from './deploy/expose.ts';
import { copyHostSecrets, type HostSecretCopy } from './deploy/host-secrets.ts';
import type { VirtualClusterProvider, VirtualClusterRef } from './provider.ts';

/**
 * What the service does to a host cluster for one preview besides the provider's lifecycle:
 * mark its namespace, serve it under its URL, and reach its virtual cluster. Kept here so that
 * `app/` never talks to a Kubernetes API itself.
 */
export interface PreviewHostAccess {
  /** Merges annotations into the preview's host namespace. */
  annotate(namespace: string, values: Record<string, string>): Promise<void>;
  /** The URL the host Ingress serves the preview under, if it has one. */
  currentUrl(namespace: string): Promise<string | undefined>;
  expose(options: Omit<ExposeOptions, 'host' | 'urlStyle'>): Promise<string>;
  /** Removes the host Ingress (a config without `expose:`); gone is fine. */
  unexpose(namespace: string): Promise<void>;
  /**
   * Copies host Secrets of `namespace` (the operator's, allowed beforehand) into the virtual
   * cluster, the listed keys only; resolves with `namespace/name` of each copy.
   */
  copySecrets(virtual: KubeClients, namespace: string, copies: readonly HostSecretCopy[]): Promise<string[]>;
  /** The virtual cluster's API, once it serves and its controllers made the `default` namespace. */
  connect(provider: VirtualClusterProvider, ref: VirtualClusterRef, timeoutMs: number): Promise<KubeClients>;
}

export function previewHostAccess(
  hostKubeconfig: string,
  urlStyle: PreviewUrlStyle = DEFAULT_URL_STYLE,
): PreviewHostAccess {
  const host = kubeClients(hostKubeconfig);
  return {
    async annotate(namespace, values) {
      await host.core.patchNamespace(
        { name: namespace, body: { metadata: { annotations: values } } },
        mergePatch,
      );
    },
    async currentUrl(namespace) {
      try {
        const ingress = await host.networking.readNamespacedIngress({
          name: PREVIEW_INGRESS_NAME,
          namespace,
        });
        const rule = ingress.spec?.rules?.[0];
        return rule?.host ? previewUrl(rule.host, rule.http?.paths?.[0]?.path ?? '/', urlStyle) : undefined;
      } catch (error) {
        return ignoreNotFound(error);
      }
    },
    expose: (options) => exposePreview({ ...options, host, urlStyle }),
    async unexpose(namespace) {
      try {
        await host.networking.deleteNamespacedIngress({ name: PREVIEW_INGRESS_NAME, namespace });
      } catch (error) {
        ignoreNotFound(error);
      }
    },
    copySecrets: (virtual, namespace, copies) =>
      copyHostSecrets({ host: host.core, hostNamespace: namespace, virtual, copies }),
    async connect(provider, ref, timeoutMs) {
      const virtual = kubeClients(await provider.kubeconfig(ref));
      await waitUntil(() => virtual.core.readNamespace({ name: 'default' }), {
        what: `virtual cluster ${ref.name} to serve its API`,
        timeoutMs,
        intervalMs: 200,
      });
      return virtual;
    },
  };
}
