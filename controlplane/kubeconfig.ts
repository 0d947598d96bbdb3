import { stringify } from 'yaml';

export interface KubeconfigInput {
  /** Cluster, user and context name. */
  name: string;
  server: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

/** An admin kubeconfig with the certificates inlined, so the file alone is enough to connect. */
export function renderKubeconfig(input: KubeconfigInput): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: input.name,
        cluster: { server: input.server, 'certificate-authority-data': b64(input.caCert) },
      },
    ],
    users: [
      {
        name: input.name,
        user: { 'client-certificate-data': b64(input.clientCert), 'client-key-data': b64(input.clientKey) },
      },
    ],
    contexts: [{ name: input.name, context: { cluster: input.name, user: input.name } }],
    'current-context': input.name,
    preferences: {},
  });
}
