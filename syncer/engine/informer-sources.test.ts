import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeClients } from '../../kube/client.ts';
import { defaultResourceSyncers } from '../kinds/index.ts';
import { informerSources } from './informer-sources.ts';

const translate = { vclusterName: 'vc1', hostNamespace: 'vcluster-vc1' };
const clients = {} as KubeClients;

describe('informerSources', () => {
  it.each([
    ['Pod', '/api/v1/pods', '/api/v1/namespaces/vcluster-vc1/pods'],
    ['Service', '/api/v1/services', '/api/v1/namespaces/vcluster-vc1/services'],
    ['Endpoints', '/api/v1/endpoints', '/api/v1/namespaces/vcluster-vc1/endpoints'],
    ['ConfigMap', '/api/v1/configmaps', '/api/v1/namespaces/vcluster-vc1/configmaps'],
    ['Secret', '/api/v1/secrets', '/api/v1/namespaces/vcluster-vc1/secrets'],
    [
      'PersistentVolumeClaim',
      '/api/v1/persistentvolumeclaims',
      '/api/v1/namespaces/vcluster-vc1/persistentvolumeclaims',
    ],
    [
      'Ingress',
      '/apis/networking.k8s.io/v1/ingresses',
      '/apis/networking.k8s.io/v1/namespaces/vcluster-vc1/ingresses',
    ],
  ])('%s: watches %s, and %s by the managed-by label', (kind, virtualPath, hostPath) => {
    const syncer = defaultResourceSyncers().find((candidate) => candidate.kind === kind);
    const sources = informerSources(syncer!, { virtual: clients, host: clients, translate });
    expect(sources.virtual.path).toBe(virtualPath);
    expect(sources.virtual.labelSelector).toBeUndefined();
    expect(sources.host.path).toBe(hostPath);
    expect(sources.host.labelSelector).toBe('vcluster.loft.sh/managed-by=vc1');
  });

  it('lists every virtual namespace, and on the host only its namespace and label', async () => {
    const asked: unknown[] = [];
    const empty = { items: [] as KubernetesObject[] };
    const sources = informerSources(
      {
        apiVersion: 'v1',
        resource: 'configmaps',
        listVirtual: async (virtual) => {
          asked.push(['virtual', virtual]);
          return empty;
        },
        listHost: async (host, query) => {
          asked.push(['host', host, query]);
          return empty;
        },
      },
      { virtual: clients, host: clients, translate },
    );
    await sources.virtual.list();
    await sources.host.list();
    expect(asked).toEqual([
      ['virtual', clients],
      ['host', clients, { namespace: 'vcluster-vc1', labelSelector: 'vcluster.loft.sh/managed-by=vc1' }],
    ]);
  });
});
