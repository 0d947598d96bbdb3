import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isolationObjects } from './isolation.ts';

describe('isolationObjects', () => {
  it('fences a virtual cluster with a quota, limits and a network policy by default', () => {
    const objects = isolationObjects('pr-1', 'vcluster-pr-1');
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'ResourceQuota/vc-pr-1',
      'LimitRange/vc-pr-1',
      'NetworkPolicy/vc-work-pr-1',
    ]);
    expect(objects.every((o) => o.metadata?.namespace === 'vcluster-pr-1')).toBe(true);
    const policy = objects[2] as unknown as {
      spec: { podSelector: unknown; ingress: { from: unknown[] }[] };
    };
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'vcluster.loft.sh/managed-by': 'pr-1' } });
    expect(policy.spec.ingress[0]?.from).toEqual([
      { podSelector: { matchLabels: { 'vcluster.loft.sh/managed-by': 'pr-1' } } },
    ]);
  });

  it.each([
    [{ quota: false }, ['NetworkPolicy']],
    [{ networkPolicy: false }, ['ResourceQuota', 'LimitRange']],
    [{ quota: false, networkPolicy: false }, []],
  ])('leaves out what is switched off: %o', (options, kinds) => {
    expect(isolationObjects('a', 'ns', options).map((o) => o.kind)).toEqual(kinds);
  });

  it('quotas the same as charts/vcluster: every resource, services of each exposing type and Ingresses', () => {
    const values = parse(
      readFileSync(new URL('../charts/vcluster/values.yaml', import.meta.url), 'utf8'),
    ) as {
      isolation: { resourceQuota: { quota: Record<string, string> } };
    };
    const quota = isolationObjects('a', 'ns')[0] as { spec?: { hard?: Record<string, string> } };
    expect(quota.spec?.hard).toEqual(values.isolation.resourceQuota.quota);
    expect(quota.spec?.hard).toMatchObject({
      'services.loadbalancers': '1',
      'services.nodeports': '1',
      'count/ingresses.networking.k8s.io': '10',
      'count/persistentvolumeclaims': '20',
      'requests.storage': '100Gi',
    });
  });
});
