import type { PreviewUrlStyle, ProviderName } from '../../preview/index.ts';
import { ciKubeconfig, previewHostAccess, providerNamed, readHostKubeconfig } from '../../preview/index.ts';
import type { StatusPageHosts } from '../status-page/read-status.ts';
import type { PreviewHosts } from './read-preview-status.ts';

/**
 * The host cluster as the status and kubeconfig endpoints and the status page read it, opened on
 * first use: a web-only process should not need the cluster (nor the provider's binaries) until
 * someone asks for a status.
 */
export function lazyPreviewHosts(
  kubeconfigPath: string | undefined,
  providerName: ProviderName,
  /** How preview URLs are reached (PREVIEW_URL_SCHEME, PREVIEW_URL_PORT), as the worker makes them. */
  urlStyle?: PreviewUrlStyle,
): PreviewHosts & StatusPageHosts {
  let opened:
    | Promise<{
        provider: Awaited<ReturnType<typeof providerNamed>>;
        access: ReturnType<typeof previewHostAccess>;
      }>
    | undefined;
  const open = () => {
    opened ??= (async () => {
      const kubeconfig = await readHostKubeconfig(kubeconfigPath);
      return {
        provider: await providerNamed(providerName, kubeconfig),
        access: previewHostAccess(kubeconfig, urlStyle),
      };
    })().catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  return {
    get: async (ref) => (await open()).provider.get(ref),
    list: async () => (await open()).provider.list(),
    syncerLog: async (ref, tailLines) => (await open()).provider.syncerLog(ref, tailLines),
    currentUrl: async (namespace) => (await open()).access.currentUrl(namespace),
    ciKubeconfig: async (ref, options) => ciKubeconfig((await open()).provider, ref, options),
  };
}
