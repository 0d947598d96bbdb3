import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TranslateContext } from './context.ts';
import { hostSecretType, secretNeedsRecreate, secretToHost, secretUpdateToHost } from './secret.ts';

const ctx: TranslateContext = { vclusterName: 'pr-12', hostNamespace: 'preview-pr-12' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

const vSecret: V1Secret = {
  metadata: { name: 'db', namespace: 'shop', uid: 's-uid' },
  type: 'Opaque',
  data: { password: b64('hunter2') },
};

describe('hostSecretType', () => {
  it.each([
    { type: 'Opaque', expected: 'Opaque' },
    { type: 'kubernetes.io/tls', expected: 'kubernetes.io/tls' },
    { type: 'kubernetes.io/dockerconfigjson', expected: 'kubernetes.io/dockerconfigjson' },
    { type: 'kubernetes.io/service-account-token', expected: 'Opaque' },
    { type: undefined, expected: undefined },
  ])('$type → $expected', ({ type, expected }) => {
    expect(hostSecretType({ type })).toBe(expected);
  });
});

describe('secretToHost', () => {
  it('copies the data under the host name', () => {
    const host = secretToHost(vSecret, ctx);
    expect(host.metadata?.name).toBe('db-x-shop-x-pr-12');
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-kind']).toBe('/v1, Kind=Secret');
    expect(host.type).toBe('Opaque');
    expect(host.data).toStrictEqual({ password: b64('hunter2') });
  });

  it('folds stringData into data', () => {
    const host = secretToHost({ ...vSecret, stringData: { user: 'admin', password: 'new' } }, ctx);
    expect(host.data).toStrictEqual({ password: b64('new'), user: b64('admin') });
    expect(host.stringData).toBeUndefined();
  });
});

describe('secretUpdateToHost', () => {
  const host = secretToHost(vSecret, ctx);
  it.each<{ name: string; change: (s: V1Secret) => void; expected: unknown }>([
    { name: 'unchanged', change: () => {}, expected: undefined },
    {
      name: 'rotated password',
      change: (s) => {
        s.data = { password: b64('x') };
      },
      expected: { data: { password: b64('x') } },
    },
  ])('$name', ({ change, expected }) => {
    const v = structuredClone(vSecret);
    change(v);
    expect(secretUpdateToHost(v, host, ctx)).toStrictEqual(expected);
  });
});

describe('secretNeedsRecreate', () => {
  it.each<{ name: string; virtual: V1Secret; host: V1Secret; expected: boolean }>([
    {
      name: 'data change on a mutable secret',
      virtual: { type: 'Opaque', data: { a: 'Mg==' } },
      host: { type: 'Opaque', data: { a: 'MQ==' } },
      expected: false,
    },
    {
      name: 'type changed',
      virtual: { type: 'kubernetes.io/tls' },
      host: { type: 'Opaque' },
      expected: true,
    },
    {
      name: 'sa token stored as opaque',
      virtual: { type: 'kubernetes.io/service-account-token' },
      host: { type: 'Opaque' },
      expected: false,
    },
    {
      name: 'immutable with new data',
      virtual: { immutable: true, data: { a: 'Mg==' } },
      host: { immutable: true, data: { a: 'MQ==' } },
      expected: true,
    },
  ])('$name → $expected', ({ virtual, host, expected }) => {
    expect(secretNeedsRecreate(virtual, host)).toBe(expected);
  });
});
