import { describe, expect, it } from 'vitest';
import { clusterDomainOf, kubernetesServicePortOf, type TranslateContext } from './context.ts';

const base: TranslateContext = { vclusterName: 'vc', hostNamespace: 'host' };

describe('context defaults', () => {
  it.each([
    { ctx: base, domain: 'cluster.local', port: 443 },
    {
      ctx: { ...base, clusterDomain: 'example.internal', kubernetesServicePort: 8443 },
      domain: 'example.internal',
      port: 8443,
    },
    { ctx: { ...base, clusterDomain: '' }, domain: 'cluster.local', port: 443 },
  ])('domain $domain, port $port', ({ ctx, domain, port }) => {
    expect(clusterDomainOf(ctx)).toBe(domain);
    expect(kubernetesServicePortOf(ctx)).toBe(port);
  });
});
