import type { KubernetesObject, V1Ingress } from '@kubernetes/client-node';
import { applyObject } from '../../kube/apply.ts';
import type { KubeClients } from '../../kube/client.ts';
import { hostName } from '../../syncer/translate/names.ts';
import { FIELD_MANAGER } from './objects.ts';

/**
 * The preview URL: a host Ingress in the virtual cluster's host namespace that sends the preview's
 * host name to the host copy of the app's Service (`<service>-x-<namespace>-x-<vcluster>`, made by
 * the syncer). It carries none of the syncer's labels, so the syncer leaves it alone.
 */

export const PREVIEW_INGRESS_NAME = 'preview';

export interface ExposeOptions {
  /** The host cluster. */
  host: KubeClients;
  /** The virtual cluster's host namespace. */
  hostNamespace: string;
  vclusterName: string;
  /** The app's Service in the virtual cluster, and its port. */
  service: string;
  port: number;
  /** The Service's namespace in the virtual cluster (default `default`). */
  namespace?: string;
  /** URL path served (default `/`). */
  path?: string;
  /** Host name of the preview (`previewHost`). */
  previewHost: string;
  ingressClassName?: string;
  /** TLS for the host name; without `secretName` the ingress controller's default certificate serves it. */
  tls?: { secretName?: string };
  /** Extra annotations (e.g. a cert-manager issuer). */
  annotations?: Record<string, string>;
  /** Labels, e.g. the repository and pull request of the preview. */
  labels?: Record<string, string>;
  /** Scheme and port of the URL (default `https`). */
  urlStyle?: PreviewUrlStyle;
}

/** The host Ingress of a preview. */
export function previewIngress(options: Omit<ExposeOptions, 'host'>): V1Ingress {
  const backend = hostName(options.service, options.namespace ?? 'default', options.vclusterName);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: PREVIEW_INGRESS_NAME,
      namespace: options.hostNamespace,
      labels: {
        ...options.labels,
        'app.kubernetes.io/managed-by': 'vcluster-preview',
        'vcluster-preview.dev/vcluster': options.vclusterName,
      },
      ...(options.annotations ? { annotations: { ...options.annotations } } : {}),
    },
    spec: {
      ...(options.ingressClassName ? { ingressClassName: options.ingressClassName } : {}),
      rules: [
        {
          host: options.previewHost,
          http: {
            paths: [
              {
                path: options.path ?? '/',
                pathType: 'Prefix',
                backend: { service: { name: backend, port: { number: options.port } } },
              },
            ],
          },
        },
      ],
      ...(options.tls
        ? {
            tls: [
              {
                hosts: [options.previewHost],
                ...(options.tls.secretName ? { secretName: options.tls.secretName } : {}),
              },
            ],
          }
        : {}),
    },
  };
}

/**
 * How the ingress controller is reached from outside: `https` on the default port in production,
 * `http` on a port of this machine on the embedded host (`http://<host>:8080`).
 */
export interface PreviewUrlStyle {
  scheme: 'http' | 'https';
  port?: number;
}

export const DEFAULT_URL_STYLE: PreviewUrlStyle = { scheme: 'https' };

/** The preview URL for a host name. */
export const previewUrl = (
  previewHost: string,
  path = '/',
  style: PreviewUrlStyle = DEFAULT_URL_STYLE,
): string =>
  `${style.scheme}://${previewHost}${style.port ? `:${style.port}` : ''}${path === '/' ? '' : path}`;

/**
 * Creates or updates (server-side apply, field manager `vcluster-preview`) the host Ingress that
 * serves the preview, and returns the preview URL, `https://<previewHost>`.
 */
export async function exposePreview(options: ExposeOptions): Promise<string> {
  const { urlStyle, ...ingress } = options;
  await applyObject(options.host, previewIngress(ingress) as KubernetesObject, FIELD_MANAGER);
  return previewUrl(options.previewHost, options.path, urlStyle);
}
