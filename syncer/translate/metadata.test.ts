import { createHash } from 'node:crypto';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TranslateContext } from './context.ts';
import {
  hostLabelKey,
  hostLabelSelector,
  hostLabels,
  hostMetadata,
  hostMetadataPatch,
  hostNamespaceLabelSelector,
  hostSelector,
  isForceSynced,
  isManagedBy,
  TranslateError,
  virtualKeyOf,
} from './metadata.ts';

const ctx: TranslateContext = { vclusterName: 'pr-12', hostNamespace: 'preview-pr-12' };
const hash10 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 10);
const renamed = (key: string) => `vcluster.loft.sh/label-pr-12-x-${hash10(key)}`;

describe('hostLabelKey', () => {
  it.each([
    { key: 'app', expected: 'app' },
    { key: 'app.kubernetes.io/name', expected: 'app.kubernetes.io/name' },
    { key: 'release', expected: renamed('release') },
    { key: 'vcluster.loft.sh/namespace', expected: renamed('vcluster.loft.sh/namespace') },
    { key: 'vcluster.loft.sh/managed-by', expected: renamed('vcluster.loft.sh/managed-by') },
    { key: 'vcluster.loft.sh/controlled-by', expected: renamed('vcluster.loft.sh/controlled-by') },
  ])('$key → $expected', ({ key, expected }) => {
    expect(hostLabelKey(key, ctx)).toBe(expected);
  });

  it('renames release to a literal key', () => {
    // sha256("release") starts with a4d451ec23
    expect(hostLabelKey('release', ctx)).toBe('vcluster.loft.sh/label-pr-12-x-a4d451ec23');
  });
});

type Labels = Record<string, string> | undefined;

describe('hostLabels', () => {
  it.each<{ name: string; labels: Labels; expected: Labels }>([
    {
      name: 'plain labels are copied, marks added',
      labels: { app: 'web', tier: 'front' },
      expected: {
        app: 'web',
        tier: 'front',
        'vcluster.loft.sh/managed-by': 'pr-12',
        'vcluster.loft.sh/namespace': 'default',
      },
    },
    {
      name: 'reserved keys renamed, cannot fake the marks',
      labels: { release: 'mine', 'vcluster.loft.sh/managed-by': 'other' },
      expected: {
        [renamed('release')]: 'mine',
        [renamed('vcluster.loft.sh/managed-by')]: 'other',
        'vcluster.loft.sh/managed-by': 'pr-12',
        'vcluster.loft.sh/namespace': 'default',
      },
    },
    {
      name: 'a label already in renamed form is dropped',
      labels: { [renamed('release')]: 'spoof', app: 'x' },
      expected: { app: 'x', 'vcluster.loft.sh/managed-by': 'pr-12', 'vcluster.loft.sh/namespace': 'default' },
    },
    {
      name: 'no labels',
      labels: undefined,
      expected: { 'vcluster.loft.sh/managed-by': 'pr-12', 'vcluster.loft.sh/namespace': 'default' },
    },
  ])('$name', ({ labels, expected }) => {
    expect(hostLabels(labels, 'default', ctx)).toStrictEqual(expected);
  });
});

describe('hostSelector', () => {
  it.each<{ selector: Labels; expected: Labels }>([
    { selector: undefined, expected: undefined },
    { selector: {}, expected: undefined },
    {
      selector: { app: 'web' },
      expected: { app: 'web', 'vcluster.loft.sh/managed-by': 'pr-12', 'vcluster.loft.sh/namespace': 'shop' },
    },
    {
      selector: { release: 'r1' },
      expected: {
        [renamed('release')]: 'r1',
        'vcluster.loft.sh/managed-by': 'pr-12',
        'vcluster.loft.sh/namespace': 'shop',
      },
    },
  ])('$selector → $expected', ({ selector, expected }) => {
    expect(hostSelector(selector, 'shop', ctx)).toStrictEqual(expected);
  });
});

describe('hostLabelSelector', () => {
  it('translates matchLabels and matchExpressions keys without adding marks', () => {
    const input = {
      matchLabels: { release: 'a', app: 'b' },
      matchExpressions: [{ key: 'release', operator: 'In', values: ['x'] }],
    };
    const before = structuredClone(input);
    expect(hostLabelSelector(input, ctx)).toStrictEqual({
      matchLabels: { [renamed('release')]: 'a', app: 'b' },
      matchExpressions: [{ key: renamed('release'), operator: 'In', values: ['x'] }],
    });
    expect(input).toStrictEqual(before);
  });

  it('maps namespace selectors to namespace-label keys', () => {
    expect(hostNamespaceLabelSelector({ matchLabels: { team: 'a' } }, ctx)).toStrictEqual({
      matchLabels: { [`vcluster.loft.sh/ns-label-pr-12-x-${hash10('team')}`]: 'a' },
    });
    expect(hostLabelSelector(undefined, ctx)).toBeUndefined();
  });
});

const vConfigMap = {
  metadata: {
    name: 'settings',
    namespace: 'shop',
    uid: 'uid-1',
    resourceVersion: '77',
    labels: { app: 'shop', release: 'v1' },
    annotations: { note: 'hello', 'vcluster.loft.sh/object-name': 'spoofed' },
    finalizers: ['x'],
  },
};

describe('hostMetadata', () => {
  it('builds name, namespace, labels and marks', () => {
    expect(hostMetadata(vConfigMap, ctx, 'ConfigMap')).toStrictEqual({
      name: 'settings-x-shop-x-pr-12',
      namespace: 'preview-pr-12',
      labels: {
        app: 'shop',
        [renamed('release')]: 'v1',
        'vcluster.loft.sh/managed-by': 'pr-12',
        'vcluster.loft.sh/namespace': 'shop',
      },
      annotations: {
        note: 'hello',
        'vcluster.loft.sh/object-name': 'settings',
        'vcluster.loft.sh/object-namespace': 'shop',
        'vcluster.loft.sh/object-uid': 'uid-1',
        'vcluster.loft.sh/object-kind': '/v1, Kind=ConfigMap',
        'vcluster.loft.sh/object-host-name': 'settings-x-shop-x-pr-12',
        'vcluster.loft.sh/object-host-namespace': 'preview-pr-12',
        'vcluster.loft.sh/managed-annotations': 'note',
        'vcluster.loft.sh/managed-labels': ['app', renamed('release')].sort().join('\n'),
      },
    });
  });

  it('sets the owner reference when the context has one', () => {
    const owner = { apiVersion: 'v1', kind: 'Service', name: 'pr-12', uid: 'svc-uid' };
    expect(hostMetadata(vConfigMap, { ...ctx, owner }, 'Ingress').ownerReferences).toStrictEqual([
      { apiVersion: 'v1', kind: 'Service', name: 'pr-12', uid: 'svc-uid', controller: false },
    ]);
  });

  it('keeps keys added on the host and drops keys it no longer owns', () => {
    const existing: V1ObjectMeta = {
      labels: { old: 'x', 'added-by-host': 'y' },
      annotations: {
        'vcluster.loft.sh/managed-annotations': 'gone',
        'vcluster.loft.sh/managed-labels': 'old',
        gone: 'z',
        'host-controller/seen': 'true',
      },
    };
    const meta = hostMetadata(vConfigMap, ctx, 'ConfigMap', { existing });
    expect(meta.labels).toMatchObject({ 'added-by-host': 'y', app: 'shop' });
    expect(meta.labels).not.toHaveProperty('old');
    expect(meta.annotations).toMatchObject({ 'host-controller/seen': 'true', note: 'hello' });
    expect(meta.annotations).not.toHaveProperty('gone');
  });

  it('throws a TranslateError for an object without namespace', () => {
    expect(() => hostMetadata({ metadata: { name: 'x' } }, ctx, 'Secret')).toThrow(TranslateError);
    expect(() => hostMetadata({ metadata: { name: 'x' } }, ctx, 'Secret')).toThrow(/has no namespace/);
  });

  it('does not mutate the virtual object', () => {
    const before = structuredClone(vConfigMap);
    hostMetadata(vConfigMap, ctx, 'ConfigMap', { extraLabels: { a: 'b' } });
    expect(vConfigMap).toStrictEqual(before);
  });
});

describe('hostMetadataPatch', () => {
  const host = { metadata: hostMetadata(vConfigMap, ctx, 'ConfigMap') };
  it.each<{ name: string; vLabels: Labels; expected: unknown }>([
    { name: 'unchanged', vLabels: { app: 'shop', release: 'v1' }, expected: undefined },
    {
      name: 'label changed and removed',
      vLabels: { app: 'shop2' },
      expected: {
        labels: { app: 'shop2', [renamed('release')]: null },
        annotations: { 'vcluster.loft.sh/managed-labels': 'app' },
      },
    },
  ])('$name', ({ vLabels, expected }) => {
    const v = { metadata: { ...vConfigMap.metadata, labels: vLabels } };
    expect(hostMetadataPatch(v, host, ctx, 'ConfigMap')).toStrictEqual(expected);
  });
});

const managedHost = () => ({ metadata: hostMetadata(vConfigMap, ctx, 'ConfigMap') });

describe('isManagedBy', () => {
  it.each([
    { name: 'synced object', mutate: (_: V1ObjectMeta) => {}, kind: 'ConfigMap' as const, expected: true },
    { name: 'other kind', mutate: (_: V1ObjectMeta) => {}, kind: 'Secret' as const, expected: false },
    {
      name: 'other namespace',
      mutate: (m: V1ObjectMeta) => {
        m.namespace = 'elsewhere';
      },
      kind: 'ConfigMap' as const,
      expected: false,
    },
    {
      name: 'other vcluster',
      mutate: (m: V1ObjectMeta) => {
        m.labels = { ...m.labels, 'vcluster.loft.sh/managed-by': 'pr-13' };
      },
      kind: 'ConfigMap' as const,
      expected: false,
    },
    {
      name: 'no object-name annotation',
      mutate: (m: V1ObjectMeta) => {
        delete m.annotations?.['vcluster.loft.sh/object-name'];
      },
      kind: 'ConfigMap' as const,
      expected: false,
    },
    {
      name: 'renamed on the host',
      mutate: (m: V1ObjectMeta) => {
        m.name = 'settings-copy';
      },
      kind: 'ConfigMap' as const,
      expected: false,
    },
    {
      name: 'no kind annotation',
      mutate: (m: V1ObjectMeta) => {
        delete m.annotations?.['vcluster.loft.sh/object-kind'];
      },
      kind: 'ConfigMap' as const,
      expected: false,
    },
  ])('$name → $expected', ({ mutate, kind, expected }) => {
    const host = managedHost();
    mutate(host.metadata);
    expect(isManagedBy(host, ctx, kind)).toBe(expected);
  });
});

describe('virtualKeyOf', () => {
  it.each([
    { host: managedHost(), expected: { namespace: 'shop', name: 'settings' } },
    { host: { metadata: { name: 'x' } }, expected: undefined },
    { host: { metadata: { annotations: { 'vcluster.loft.sh/object-name': 'a' } } }, expected: undefined },
  ])('$expected', ({ host, expected }) => {
    expect(virtualKeyOf(host)).toStrictEqual(expected);
  });
});

describe('isForceSynced', () => {
  it.each([
    { annotations: { 'vcluster.loft.sh/force-sync': 'true' }, expected: true },
    { annotations: { 'vcluster.loft.sh/force-sync': 'false' }, expected: false },
    { annotations: undefined, expected: false },
  ])('$annotations → $expected', ({ annotations, expected }) => {
    expect(isForceSynced({ metadata: { annotations } })).toBe(expected);
  });
});
