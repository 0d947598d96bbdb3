import { describe, expect, it } from 'vitest';
import { previewIngress, previewUrl } from './expose.ts';

const base = {
  hostNamespace: 'vcluster-pr-12',
  vclusterName: 'pr-12',
  service: 'hello',
  port: 80,
  previewHost: 'pr-12-hello.preview.example.com',
};

describe('previewIngress', () => {
  it('points the preview host at the synced host service', () => {
    const ingress = previewIngress(base);
    expect(ingress.metadata).toMatchObject({
      name: 'preview',
      namespace: 'vcluster-pr-12',
      labels: {
        'app.kubernetes.io/managed-by': 'vcluster-preview',
        'vcluster-preview.dev/vcluster': 'pr-12',
      },
    });
    expect(ingress.spec).toEqual({
      rules: [
        {
          host: 'pr-12-hello.preview.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'hello-x-default-x-pr-12', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    });
  });

  it('takes a class, TLS, a namespace, a path and annotations', () => {
    const ingress = previewIngress({
      ...base,
      namespace: 'shop',
      path: '/app',
      ingressClassName: 'nginx',
      tls: { secretName: 'wildcard' },
      annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
    });
    expect(ingress.spec?.ingressClassName).toBe('nginx');
    expect(ingress.spec?.tls).toEqual([
      { hosts: ['pr-12-hello.preview.example.com'], secretName: 'wildcard' },
    ]);
    expect(ingress.spec?.rules?.[0]?.http?.paths[0]).toMatchObject({
      path: '/app',
      backend: { service: { name: 'hello-x-shop-x-pr-12' } },
    });
    expect(ingress.metadata?.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    expect(previewIngress({ ...base, tls: {} }).spec?.tls).toEqual([{ hosts: [base.previewHost] }]);
  });

  it('shortens long backend names like the syncer does', () => {
    const name = previewIngress({ ...base, service: 'a'.repeat(40), vclusterName: 'b'.repeat(30) }).spec
      ?.rules?.[0]?.http?.paths[0]?.backend.service?.name;
    expect(name).toHaveLength(63);
  });

  it('gives the URL', () => {
    expect(previewUrl('pr-1.example.com')).toBe('https://pr-1.example.com');
    expect(previewUrl('pr-1.example.com', '/app')).toBe('https://pr-1.example.com/app');
  });
});
