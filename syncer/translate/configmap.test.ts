import type { V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  configMapHostName,
  configMapNeedsRecreate,
  configMapToHost,
  configMapUpdateToHost,
} from './configmap.ts';
import type { TranslateContext } from './context.ts';

const ctx: TranslateContext = { vclusterName: 'pr-12', hostNamespace: 'preview-pr-12' };

const vCm: V1ConfigMap = {
  metadata: { name: 'settings', namespace: 'shop', uid: 'cm-uid', resourceVersion: '5' },
  data: { mode: 'fast', 'app.yaml': 'a: 1\n' },
  binaryData: { logo: 'iVBORw0KGgo=' },
};

describe('configMapHostName', () => {
  it.each([
    { name: 'settings', ns: 'shop', expected: 'settings-x-shop-x-pr-12' },
    { name: 'kube-root-ca.crt', ns: 'default', expected: 'kube-root-ca.crt-x-default-x-pr-12' },
    { name: 'kube-root-ca.crt', ns: 'shop', expected: 'kube-root-ca.crt-x-shop-x-pr-12' },
  ])('$ns/$name → $expected', ({ name, ns, expected }) => {
    expect(configMapHostName(name, ns, ctx)).toBe(expected);
  });
});

describe('configMapToHost', () => {
  it('copies data under the host name', () => {
    const before = structuredClone(vCm);
    const host = configMapToHost(vCm, ctx);
    expect(vCm).toStrictEqual(before);
    expect(host.metadata?.name).toBe('settings-x-shop-x-pr-12');
    expect(host.metadata?.resourceVersion).toBeUndefined();
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-kind']).toBe('/v1, Kind=ConfigMap');
    expect(host.data).toStrictEqual({ mode: 'fast', 'app.yaml': 'a: 1\n' });
    expect(host.binaryData).toStrictEqual({ logo: 'iVBORw0KGgo=' });
    expect(host.immutable).toBeUndefined();
  });
});

describe('configMapUpdateToHost', () => {
  const host = configMapToHost(vCm, ctx);
  it.each<{ name: string; change: (c: V1ConfigMap) => void; expected: unknown }>([
    { name: 'unchanged', change: () => {}, expected: undefined },
    {
      name: 'key changed and removed',
      change: (c) => {
        c.data = { mode: 'slow' };
      },
      expected: { data: { mode: 'slow', 'app.yaml': null } },
    },
    {
      name: 'made immutable',
      change: (c) => {
        c.immutable = true;
      },
      expected: { immutable: true },
    },
  ])('$name', ({ change, expected }) => {
    const v = structuredClone(vCm);
    change(v);
    expect(configMapUpdateToHost(v, host, ctx)).toStrictEqual(expected);
  });
});

describe('configMapNeedsRecreate', () => {
  it.each<{ name: string; virtual: V1ConfigMap; host: V1ConfigMap; expected: boolean }>([
    { name: 'mutable host', virtual: { data: { a: '2' } }, host: { data: { a: '1' } }, expected: false },
    {
      name: 'immutable, same data',
      virtual: { immutable: true, data: { a: '1' } },
      host: { immutable: true, data: { a: '1' } },
      expected: false,
    },
    {
      name: 'immutable, new data',
      virtual: { immutable: true, data: { a: '2' } },
      host: { immutable: true, data: { a: '1' } },
      expected: true,
    },
    {
      name: 'made mutable again',
      virtual: { data: { a: '1' } },
      host: { immutable: true, data: { a: '1' } },
      expected: true,
    },
  ])('$name → $expected', ({ virtual, host, expected }) => {
    expect(configMapNeedsRecreate(virtual, host)).toBe(expected);
  });
});
