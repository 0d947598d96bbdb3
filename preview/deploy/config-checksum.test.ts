import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { annotateConfigChecksums, CONFIG_CHECKSUM_ANNOTATION, configReferences } from './config-checksum.ts';

const configMap = (name: string, data: Record<string, string>, namespace = 'default'): KubernetesObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data }) as KubernetesObject;
const deployment = (volumes: unknown[], kind = 'Deployment', namespace = 'default') =>
  ({
    apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1',
    kind,
    metadata: { name: 'web', namespace },
    spec: {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'x' }], volumes },
      },
    },
  }) as KubernetesObject & { spec: { template: { metadata: { annotations?: Record<string, string> } } } };
const checksumOf = (objects: KubernetesObject[]) => {
  annotateConfigChecksums(objects);
  return (objects.at(-1) as ReturnType<typeof deployment>).spec.template.metadata.annotations?.[
    CONFIG_CHECKSUM_ANNOTATION
  ];
};
const content = [{ name: 'content', configMap: { name: 'page' } }];

describe('annotateConfigChecksums', () => {
  it('changes when the content of a ConfigMap the pods mount changes, and only then', () => {
    const first = checksumOf([configMap('page', { 'index.html': 'commit a' }), deployment(content)]);
    const same = checksumOf([configMap('page', { 'index.html': 'commit a' }), deployment(content)]);
    const pushed = checksumOf([configMap('page', { 'index.html': 'commit b' }), deployment(content)]);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(same).toBe(first);
    expect(pushed).not.toBe(first);
  });

  it.each([
    ['a ConfigMap nobody reads', [configMap('other', { a: '1' }), deployment(content)]],
    ['a ConfigMap of another namespace', [configMap('page', { a: '1' }, 'other'), deployment(content)]],
    ['a Job (its template cannot change)', [configMap('page', { a: '1' }), deployment(content, 'Job')]],
  ])('leaves the template alone for %s', (_, objects) => {
    expect(checksumOf(objects)).toBeUndefined();
  });

  it('finds references in projected volumes, envFrom and env', () => {
    const refs = configReferences({
      containers: [
        {
          name: 'c',
          envFrom: [{ configMapRef: { name: 'env-cm' } }, { secretRef: { name: 'env-secret' } }],
          env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'key-secret', key: 'k' } } }],
        },
      ],
      volumes: [
        {
          name: 'p',
          projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-secret' } }] },
        },
      ],
    });
    expect([...refs.configMaps].sort()).toEqual(['env-cm', 'proj-cm']);
    expect([...refs.secrets].sort()).toEqual(['env-secret', 'key-secret', 'proj-secret']);
  });
});
