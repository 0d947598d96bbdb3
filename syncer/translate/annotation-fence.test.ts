import { describe, expect, it } from 'vitest';
import { fencedAnnotationsOf, isFencedAnnotation } from './annotation-fence.ts';

describe('isFencedAnnotation', () => {
  it.each([
    ['nginx.ingress.kubernetes.io/server-snippet', true],
    ['nginx.ingress.kubernetes.io/auth-url', true],
    ['traefik.ingress.kubernetes.io/router.middlewares', true],
    ['service.beta.kubernetes.io/aws-load-balancer-internal', true],
    ['external-dns.alpha.kubernetes.io/hostname', true],
    ['cert-manager.io/cluster-issuer', true],
    ['kubernetes.io/ingress.class', true],
    ['Cert-Manager.io/Issuer', true],
    ['prometheus.io/scrape', false],
    ['app.example.com/owner', false],
    ['kubernetes.io/description', false],
  ])('%s → %s', (key, fenced) => {
    expect(isFencedAnnotation(key)).toBe(fenced);
  });

  it('lets through what the operator allows: a key, a prefix with /, a prefix with *', () => {
    expect(isFencedAnnotation('cert-manager.io/cluster-issuer', ['cert-manager.io/cluster-issuer'])).toBe(
      false,
    );
    expect(isFencedAnnotation('cert-manager.io/issuer', ['cert-manager.io/cluster-issuer'])).toBe(true);
    expect(
      isFencedAnnotation('nginx.ingress.kubernetes.io/rewrite-target', ['nginx.ingress.kubernetes.io/']),
    ).toBe(false);
    expect(
      isFencedAnnotation('nginx.ingress.kubernetes.io/ssl-redirect', ['nginx.ingress.kubernetes.io/ssl-*']),
    ).toBe(false);
    expect(
      isFencedAnnotation('nginx.ingress.kubernetes.io/server-snippet', ['nginx.ingress.kubernetes.io/ssl-*']),
    ).toBe(true);
  });
});

describe('fencedAnnotationsOf', () => {
  it('names the fenced keys, sorted', () => {
    expect(
      fencedAnnotationsOf({
        'prometheus.io/scrape': 'true',
        'nginx.ingress.kubernetes.io/server-snippet': 'x',
        'cert-manager.io/cluster-issuer': 'y',
      }),
    ).toEqual(['cert-manager.io/cluster-issuer', 'nginx.ingress.kubernetes.io/server-snippet']);
    expect(fencedAnnotationsOf(undefined)).toEqual([]);
  });
});
