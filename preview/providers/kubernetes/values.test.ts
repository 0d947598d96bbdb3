import { describe, expect, it } from 'vitest';
import { chartValues, helmInstallArgs, mergeValues, operatorValues, renderValues } from './values.ts';

describe('renderValues', () => {
  it('keeps the chart defaults when nothing is asked', () => {
    expect(renderValues({})).toEqual({});
    expect(renderValues({}, { persistence: { enabled: false } })).toEqual({
      persistence: { enabled: false },
    });
  });

  it('maps isolation options and the allowed host suffix to chart values', () => {
    expect(
      renderValues({
        isolation: { quota: false, networkPolicy: false, podSecurityStandard: 'restricted' },
        allowedHostSuffix: 'pr-12.preview.example.com',
      }),
    ).toEqual({
      isolation: {
        resourceQuota: { enabled: false },
        limitRange: { enabled: false },
        networkPolicy: { enabled: false },
        podSecurityStandard: 'restricted',
      },
      syncer: { allowedHostSuffix: 'pr-12.preview.example.com' },
    });
  });

  it('lets per-cluster options win over provider values, keeping the rest of them', () => {
    const base = {
      syncer: { logLevel: 'debug', allowedHostSuffix: 'example.com' },
      isolation: { networkPolicy: { enabled: true, ingressControllerNamespace: 'nginx' } },
      persistence: { enabled: false },
    };
    expect(
      renderValues({ allowedHostSuffix: 'pr-1.example.com', isolation: { networkPolicy: false } }, base),
    ).toEqual({
      syncer: { logLevel: 'debug', allowedHostSuffix: 'pr-1.example.com' },
      isolation: { networkPolicy: { enabled: false, ingressControllerNamespace: 'nginx' } },
      persistence: { enabled: false },
    });
    // The provider's values are not changed in place.
    expect(base.syncer.allowedHostSuffix).toBe('example.com');
  });
});

describe('chartValues', () => {
  it("points the users' kubeconfig Secret at the chart's Service, under the provider and create options", () => {
    expect(chartValues('pr-1', 'vcluster-pr-1', {})).toEqual({
      syncer: { kubeconfigServer: 'https://pr-1.vcluster-pr-1.svc:443' },
    });
    expect(
      chartValues(
        'pr-1',
        'vcluster-pr-1',
        { allowedHostSuffix: 'pr-1.example.com' },
        { syncer: { logLevel: 'debug', kubeconfigServer: 'https://api.pr-1.example.com' } },
      ),
    ).toEqual({
      syncer: {
        kubeconfigServer: 'https://api.pr-1.example.com',
        logLevel: 'debug',
        allowedHostSuffix: 'pr-1.example.com',
      },
    });
  });
});

describe('mergeValues', () => {
  it('merges objects recursively and replaces arrays and scalars', () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: { e: 1 } })).toEqual({
      a: { b: 1, c: [3] },
      d: { e: 1 },
    });
  });
});

describe('helmInstallArgs', () => {
  it('installs or upgrades the release with the service CIDR and the values file', () => {
    expect(
      helmInstallArgs({
        name: 'pr-1',
        namespace: 'vcluster-pr-1',
        chart: '/charts/vcluster',
        serviceCIDR: '10.96.0.0/12',
        valuesFile: '/tmp/values.yaml',
      }),
    ).toEqual([
      'upgrade',
      '--install',
      'pr-1',
      '/charts/vcluster',
      '--namespace',
      'vcluster-pr-1',
      '--set',
      'serviceCIDR=10.96.0.0/12',
      '-f',
      '/tmp/values.yaml',
    ]);
  });

  it('escapes the comma of a dual-stack range pair', () => {
    const args = helmInstallArgs({
      name: 'a',
      namespace: 'b',
      chart: 'c',
      serviceCIDR: '10.96.0.0/12,fd00::/108',
      valuesFile: 'v',
    });
    expect(args).toContain('serviceCIDR=10.96.0.0/12\\,fd00::/108');
  });
});

describe('operatorValues', () => {
  it.each<{ given: Parameters<typeof operatorValues>[0]; values: Record<string, unknown> }>([
    { given: {}, values: {} },
    { given: { values: { syncer: { logLevel: 'debug' } } }, values: { syncer: { logLevel: 'debug' } } },
    {
      given: {
        values: { syncer: { ingressClassName: 'theirs', logLevel: 'debug' } },
        ingressClassName: 'traefik',
      },
      values: { syncer: { ingressClassName: 'traefik', logLevel: 'debug' } },
    },
    {
      given: {
        values: { isolation: { allowedCsiDrivers: ['from.values'], podSecurityStandard: 'restricted' } },
        volumeFence: { allowedCsiDrivers: ['a.csi'], allowedStorageClasses: [] },
      },
      values: {
        isolation: {
          allowedCsiDrivers: ['a.csi'],
          allowedStorageClasses: [],
          podSecurityStandard: 'restricted',
        },
      },
    },
    // Classes left unset: the chart's (or the values') own, any class.
    { given: { volumeFence: { allowedCsiDrivers: [] } }, values: { isolation: { allowedCsiDrivers: [] } } },
  ])('$given → $values', ({ given, values }) => {
    expect(operatorValues(given)).toEqual(values);
  });
});
