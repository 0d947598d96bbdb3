import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartNetworkDefaults, isolationObjects } from './isolation.ts';

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
    expect(policy.spec.ingress[0]?.from[0]).toEqual({
      podSelector: { matchLabels: { 'vcluster.loft.sh/managed-by': 'pr-1' } },
    });
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

  it('fences the network with charts/vcluster defaults: DNS only from the host DNS namespace, metadata and private ranges excluded', () => {
    const values = parse(
      readFileSync(new URL('../charts/vcluster/values.yaml', import.meta.url), 'utf8'),
    ) as {
      isolation: { networkPolicy: Record<string, unknown> };
    };
    const { dns, outgoingConnections, ingressControllerNamespace } = values.isolation.networkPolicy;
    expect(chartNetworkDefaults).toEqual({ dns, outgoingConnections, ingressControllerNamespace });
    expect(chartNetworkDefaults.outgoingConnections.except).toContain('169.254.0.0/16');

    const policy = isolationObjects('pr-1', 'ns', { quota: false })[0] as unknown as {
      spec: { ingress: { from: unknown[] }[]; egress: { to: unknown[]; ports?: unknown[] }[] };
    };
    const workloads = { podSelector: { matchLabels: { 'vcluster.loft.sh/managed-by': 'pr-1' } } };
    const controlPlane = { podSelector: { matchLabels: { app: 'vcluster', release: 'pr-1' } } };
    expect(policy.spec.ingress).toEqual([
      {
        from: [
          workloads,
          controlPlane,
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
        ],
      },
    ]);
    expect(policy.spec.egress).toEqual([
      { to: [workloads] },
      { to: [controlPlane], ports: [{ port: 8443, protocol: 'TCP' }] },
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      { to: [{ ipBlock: outgoingConnections }] },
    ]);
  });

  it('leaves the ingress controller rule out when no namespace is given, as the chart does', () => {
    const policy = isolationObjects('a', 'ns', {
      quota: false,
      ingressControllerNamespace: '',
    })[0] as unknown as {
      spec: { ingress: { from: unknown[] }[] };
    };
    expect(policy.spec.ingress[0]?.from).toHaveLength(2);
  });
});
