import type { V1Ingress } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TranslateContext } from './context.ts';
import {
  hostMatchesSuffix,
  ingressHostViolations,
  ingressSecretRefs,
  ingressStatusToVirtual,
  ingressToHost,
  ingressUpdateToHost,
} from './ingress.ts';

const ctx: TranslateContext = {
  vclusterName: 'pr-12',
  hostNamespace: 'preview-pr-12',
  allowedHostSuffix: 'pr-12.preview.example.com',
};

function virtualIngress(spec: V1Ingress['spec'], annotations?: Record<string, string>): V1Ingress {
  return { metadata: { name: 'web', namespace: 'shop', uid: 'ing-uid', annotations }, spec };
}

const spec: V1Ingress['spec'] = {
  ingressClassName: 'nginx',
  tls: [{ hosts: ['shop.pr-12.preview.example.com'], secretName: 'shop-tls' }],
  rules: [
    {
      host: 'shop.pr-12.preview.example.com',
      http: {
        paths: [
          { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
          {
            path: '/static',
            pathType: 'Prefix',
            backend: { resource: { apiGroup: 'x.io', kind: 'Bucket', name: 'assets' } },
          },
        ],
      },
    },
  ],
};

describe('ingressToHost', () => {
  it('points backends and TLS at host names, passes hosts through, and names no class of its own', () => {
    const vIng = virtualIngress(spec);
    const before = structuredClone(vIng);
    const host = ingressToHost(vIng, ctx);
    expect(vIng).toStrictEqual(before);
    expect(host.metadata?.name).toBe('web-x-shop-x-pr-12');
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-kind']).toBe(
      'networking.k8s.io/v1, Kind=Ingress',
    );
    expect(host.spec).toStrictEqual({
      tls: [{ hosts: ['shop.pr-12.preview.example.com'], secretName: 'shop-tls-x-shop-x-pr-12' }],
      rules: [
        {
          host: 'shop.pr-12.preview.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'web-x-shop-x-pr-12', port: { number: 80 } } },
              },
              {
                path: '/static',
                pathType: 'Prefix',
                backend: { resource: { apiGroup: 'x.io', kind: 'Bucket', name: 'assets-x-shop-x-pr-12' } },
              },
            ],
          },
        },
      ],
    });
  });

  it.each([
    { name: 'the virtual Ingress names another class', virtualClass: 'nginx' },
    { name: 'the virtual Ingress names none', virtualClass: undefined },
  ])('gives every host Ingress the operator’s class: $name', ({ virtualClass }) => {
    const host = ingressToHost(virtualIngress({ ...spec, ingressClassName: virtualClass }), {
      ...ctx,
      ingressClassName: 'traefik',
    });
    expect(host.spec?.ingressClassName).toBe('traefik');
  });

  it.each([
    { value: 'basic-auth', expected: 'basic-auth-x-shop-x-pr-12' },
    { value: 'auth/basic-auth', expected: 'preview-pr-12/basic-auth-x-auth-x-pr-12' },
    { value: 'a/b/c', expected: 'a/b/c' },
  ])(
    'auth-secret $value → $expected, where the operator allows ingress-nginx annotations',
    ({ value, expected }) => {
      const host = ingressToHost(virtualIngress(spec, { 'nginx.ingress.kubernetes.io/auth-secret': value }), {
        ...ctx,
        allowedAnnotations: ['nginx.ingress.kubernetes.io/'],
      });
      expect(host.metadata?.annotations?.['nginx.ingress.kubernetes.io/auth-secret']).toBe(expected);
    },
  );

  it('keeps ingress controller annotations off the host unless the operator allows them', () => {
    const host = ingressToHost(
      virtualIngress(spec, {
        'nginx.ingress.kubernetes.io/auth-secret': 'basic-auth',
        'nginx.ingress.kubernetes.io/server-snippet': 'location / { proxy_pass http://169.254.169.254; }',
        'cert-manager.io/cluster-issuer': 'letsencrypt',
        'prometheus.io/scrape': 'true',
      }),
      ctx,
    );
    const annotations = host.metadata?.annotations ?? {};
    expect(annotations['nginx.ingress.kubernetes.io/auth-secret']).toBeUndefined();
    expect(annotations['nginx.ingress.kubernetes.io/server-snippet']).toBeUndefined();
    expect(annotations['cert-manager.io/cluster-issuer']).toBeUndefined();
    expect(annotations['prometheus.io/scrape']).toBe('true');
  });
});

describe('ingressUpdateToHost', () => {
  const host = ingressToHost(virtualIngress(spec), ctx);
  it.each<{ name: string; v: V1Ingress; expected: unknown }>([
    { name: 'unchanged', v: virtualIngress(spec), expected: undefined },
    {
      name: 'class defaulted on the host is left alone',
      v: virtualIngress({ ...spec, ingressClassName: undefined }),
      expected: undefined,
    },
    {
      name: 'a class the pull request changed is not pushed',
      v: virtualIngress({ ...spec, ingressClassName: 'internal-only' }),
      expected: undefined,
    },
    {
      name: 'TLS removed',
      v: virtualIngress({ ...spec, tls: undefined }),
      expected: { spec: { tls: null } },
    },
  ])('$name', ({ v, expected }) => {
    expect(ingressUpdateToHost(v, host, ctx)).toStrictEqual(expected);
  });
});

describe('ingressStatusToVirtual', () => {
  const lb = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } };
  it.each<{ name: string; host: V1Ingress; virtual: V1Ingress; expected: unknown }>([
    { name: 'address assigned', host: { status: lb }, virtual: {}, expected: lb },
    { name: 'already shown', host: { status: lb }, virtual: { status: lb }, expected: undefined },
  ])('$name', ({ host, virtual, expected }) => {
    expect(ingressStatusToVirtual(host, virtual)).toStrictEqual(expected);
  });
});

describe('ingressSecretRefs', () => {
  const v = virtualIngress(
    { tls: [{ secretName: 'shop-tls' }, { secretName: 'shop-tls' }] },
    {
      'nginx.ingress.kubernetes.io/auth-secret': 'auth/basic',
      'nginx.ingress.kubernetes.io/auth-tls-secret': 'ca',
    },
  );

  it('lists only TLS secrets while ingress-nginx annotations are fenced: their secrets would go for nothing', () => {
    expect(ingressSecretRefs(v)).toStrictEqual([{ namespace: 'shop', name: 'shop-tls' }]);
  });

  it('lists TLS and annotation secrets once where the operator allows the annotations', () => {
    expect(ingressSecretRefs(v, ['nginx.ingress.kubernetes.io/'])).toStrictEqual([
      { namespace: 'auth', name: 'basic' },
      { namespace: 'shop', name: 'ca' },
      { namespace: 'shop', name: 'shop-tls' },
    ]);
  });
});

describe('hostMatchesSuffix', () => {
  it.each([
    { host: 'pr-12.preview.example.com', suffix: 'pr-12.preview.example.com', expected: true },
    { host: 'api.pr-12.preview.example.com', suffix: 'pr-12.preview.example.com', expected: true },
    { host: 'API.PR-12.preview.example.com.', suffix: 'pr-12.preview.example.com', expected: true },
    { host: '*.pr-12.preview.example.com', suffix: 'pr-12.preview.example.com', expected: true },
    { host: 'api.pr-12.preview.example.com', suffix: '*.pr-12.preview.example.com', expected: true },
    { host: 'pr-12.preview.example.com', suffix: '*.pr-12.preview.example.com', expected: true },
    { host: 'evilpr-12.preview.example.com', suffix: 'pr-12.preview.example.com', expected: false },
    { host: 'pr-13.preview.example.com', suffix: 'pr-12.preview.example.com', expected: false },
    { host: '*.preview.example.com', suffix: 'pr-12.preview.example.com', expected: false },
    { host: 'example.com', suffix: 'pr-12.preview.example.com', expected: false },
    { host: 'anything', suffix: '', expected: false },
  ])('$host vs $suffix → $expected', ({ host, suffix, expected }) => {
    expect(hostMatchesSuffix(host, suffix)).toBe(expected);
  });
});

describe('ingressHostViolations', () => {
  it.each<{ name: string; spec: V1Ingress['spec']; context?: TranslateContext; expected: string[] }>([
    { name: 'all hosts inside the preview domain', spec, expected: [] },
    {
      name: 'foreign rule host and TLS host',
      spec: {
        rules: [{ host: 'www.example.com' }, { host: 'ok.pr-12.preview.example.com' }],
        tls: [{ hosts: ['www.example.com', 'login.example.com'] }],
      },
      expected: ['www.example.com', 'login.example.com'],
    },
    {
      name: 'catch-all rule and default backend',
      spec: {
        defaultBackend: { service: { name: 'web', port: { number: 80 } } },
        rules: [{ http: { paths: [] } }],
      },
      expected: ['*'],
    },
    {
      name: 'no suffix configured: nothing to enforce',
      spec: { rules: [{ host: 'www.example.com' }] },
      context: { vclusterName: 'pr-12', hostNamespace: 'h' },
      expected: [],
    },
    {
      name: 'suffix given as wildcard',
      spec: { rules: [{ host: 'a.pr-12.preview.example.com' }, { host: 'b.other.com' }] },
      context: { ...ctx, allowedHostSuffix: '*.pr-12.preview.example.com' },
      expected: ['b.other.com'],
    },
  ])('$name', ({ spec, context, expected }) => {
    expect(ingressHostViolations(virtualIngress(spec), context ?? ctx)).toStrictEqual(expected);
  });
});

describe('ingressUpdateToHost with the operator’s class', () => {
  const operator = { ...ctx, ingressClassName: 'traefik' };
  it('puts the operator’s class back on a host Ingress that names another', () => {
    const host = ingressToHost(virtualIngress(spec), operator);
    const drifted = { ...host, spec: { ...host.spec, ingressClassName: 'nginx' } };
    expect(ingressUpdateToHost(virtualIngress(spec), drifted, operator)).toStrictEqual({
      spec: { ingressClassName: 'traefik' },
    });
  });
});
