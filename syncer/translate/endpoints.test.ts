import type { V1Endpoints } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TranslateContext } from './context.ts';
import { endpointsToHost, endpointsUpdateToHost } from './endpoints.ts';

const ctx: TranslateContext = { vclusterName: 'pr-12', hostNamespace: 'preview-pr-12' };

const vEp: V1Endpoints = {
  metadata: { name: 'external-db', namespace: 'shop', uid: 'ep-uid' },
  subsets: [
    {
      addresses: [
        { ip: '192.168.1.10' },
        {
          ip: '10.244.0.5',
          targetRef: { kind: 'Pod', name: 'db-0', namespace: 'shop', uid: 'v-uid', resourceVersion: '7' },
        },
      ],
      notReadyAddresses: [{ ip: '10.244.0.6', targetRef: { kind: 'Pod', name: 'db-1' } }],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    },
  ],
};

describe('endpointsToHost', () => {
  it('uses the service host name and points pod targets at host pods', () => {
    const before = structuredClone(vEp);
    const host = endpointsToHost(vEp, ctx);
    expect(vEp).toStrictEqual(before);
    expect(host.metadata?.name).toBe('external-db-x-shop-x-pr-12');
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-kind']).toBe('/v1, Kind=Endpoints');
    expect(host.subsets).toStrictEqual([
      {
        addresses: [
          { ip: '192.168.1.10' },
          {
            ip: '10.244.0.5',
            targetRef: { kind: 'Pod', name: 'db-0-x-shop-x-pr-12', namespace: 'preview-pr-12' },
          },
        ],
        notReadyAddresses: [
          {
            ip: '10.244.0.6',
            targetRef: { kind: 'Pod', name: 'db-1-x-shop-x-pr-12', namespace: 'preview-pr-12' },
          },
        ],
        ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      },
    ]);
  });

  it('keeps endpoints without subsets empty', () => {
    expect(endpointsToHost({ metadata: { name: 'e', namespace: 'n' } }, ctx).subsets).toBeUndefined();
  });
});

describe('endpointsUpdateToHost', () => {
  const host = endpointsToHost(vEp, ctx);
  it.each<{ name: string; change: (e: V1Endpoints) => void; expected: unknown }>([
    { name: 'unchanged', change: () => {}, expected: undefined },
    {
      name: 'address changed',
      change: (e) => {
        e.subsets = [{ addresses: [{ ip: '192.168.1.11' }], ports: [{ port: 5432 }] }];
      },
      expected: { subsets: [{ addresses: [{ ip: '192.168.1.11' }], ports: [{ port: 5432 }] }] },
    },
    {
      name: 'all addresses gone',
      change: (e) => {
        delete e.subsets;
      },
      expected: { subsets: null },
    },
  ])('$name', ({ change, expected }) => {
    const v = structuredClone(vEp);
    change(v);
    expect(endpointsUpdateToHost(v, host, ctx)).toStrictEqual(expected);
  });
});
