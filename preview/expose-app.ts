import type { PreviewApp } from './deploy/index.ts';
import type { PreviewHostAccess } from './host-access.ts';

/**
 * The Expose step of a preview: the host Ingress for the Service its config names, at the preview's
 * host; answers the URL. A config that exposes nothing gets no URL, and an Ingress an earlier config
 * made goes.
 */
export async function exposeApp(
  host: PreviewHostAccess,
  ref: { name: string; namespace: string },
  app: Pick<PreviewApp, 'config' | 'host'>,
  options: { ingressClassName?: string | undefined; labels: Record<string, string> },
): Promise<string | undefined> {
  const expose = app.config.expose;
  if (!expose) {
    await host.unexpose(ref.namespace);
    return undefined;
  }
  return host.expose({
    hostNamespace: ref.namespace,
    vclusterName: ref.name,
    service: expose.service,
    port: expose.port,
    path: expose.path,
    previewHost: app.host,
    ingressClassName: options.ingressClassName,
    labels: options.labels,
  });
}
