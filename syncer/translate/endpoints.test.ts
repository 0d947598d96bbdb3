import type { V1Endpoints } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TranslateContext } from './context.ts';
import { endpointsAddresses, endpointsRefusal, endpointsToHost, endpointsUpdateToHost } from './endpoints.ts';

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

describe('endpointsRefusal', () => {
  const own = new Set(['10.244.0.5', '10.244.0.6', '10.244.0.7']);
  const withIPs = (ready: string[], notReady: string[] = []): V1Endpoints => ({
    metadata: { name: 'db', namespace: 'shop' },
    subsets: [
      {
        addresses: ready.map((ip) => ({ ip })),
        notReadyAddresses: notReady.map((ip) => ({ ip })),
        ports: [{ port: 5432 }],
      },
    ],
  });

  it('lists every address, ready or not', () => {
    expect(endpointsAddresses(vEp)).toEqual(['192.168.1.10', '10.244.0.5', '10.244.0.6']);
  });

  it.each<{ name: string; ep: V1Endpoints; refused: boolean }>([
    { name: 'own pods only', ep: withIPs(['10.244.0.5'], ['10.244.0.6']), refused: false },
    { name: 'no subsets', ep: { metadata: { name: 'db', namespace: 'shop' } }, refused: false },
    { name: 'an outside address', ep: withIPs(['192.0.2.10']), refused: true },
    { name: 'own pod beside an outside address', ep: withIPs(['10.244.0.5', '10.96.0.1']), refused: true },
    { name: 'outside address not ready', ep: withIPs(['10.244.0.5'], ['169.254.169.254']), refused: true },
    { name: 'another preview’s pod', ep: withIPs(['10.244.1.9']), refused: true },
  ])('$name', ({ ep, refused }) => {
    expect(endpointsRefusal(ep, own) !== undefined).toBe(refused);
  });

  it('says which addresses and why', () => {
    expect(endpointsRefusal(withIPs(['10.244.0.5', '169.254.169.254']), own)).toBe(
      'Endpoints not synced to the host cluster: address 169.254.169.254 is not the IP of a pod of this preview. ' +
        'Hand-written endpoints may only point at the preview’s own pods; give the service a selector, or list ' +
        'only your pods’ IPs.',
    );
    const many = withIPs(['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6', '1.1.1.7']);
    expect(endpointsRefusal(many, own)).toContain(
      'addresses 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5, and 2 more are',
    );
  });
});
