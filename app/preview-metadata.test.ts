import { describe, expect, it } from 'vitest';
import { hostLabel } from '../preview/deploy/index.ts';
import { labels } from '../preview/provider.ts';
import { previewHoldingHost, previewLabels, REPO_ANNOTATION } from './preview-metadata.ts';

const preview = (repo: string, pr: number, host: string) => ({
  name: `pr-${pr}`,
  namespace: `vcp-${repo.replace('/', '-').toLowerCase()}-${pr}`,
  labels: { ...previewLabels(repo, pr), [labels.host]: hostLabel(host) },
  annotations: { [REPO_ANNOTATION]: repo },
});
const tree = (name: string, host: string) => ({
  name,
  namespace: `vcp-tree-${name}`,
  labels: { [labels.tree]: name, [labels.host]: hostLabel(host) },
  annotations: {},
});

describe('previewHoldingHost', () => {
  const live = [
    preview('alice/shop', 1, 'shop.preview.example.com'),
    preview('bob/web', 2, 'web.preview.example.com'),
    tree('demo', 'demo.preview.example.com'),
  ];

  it.each([
    {
      name: 'another repository’s preview holds the host',
      self: preview('mallory/shop', 1, '').namespace,
      host: 'shop.preview.example.com',
      holder: 'the preview of alice/shop#1',
    },
    {
      name: 'another pull request of the same repository holds it',
      self: preview('alice/shop', 9, '').namespace,
      host: 'shop.preview.example.com',
      holder: 'the preview of alice/shop#1',
    },
    {
      name: 'a working tree’s preview holds it',
      self: preview('alice/shop', 9, '').namespace,
      host: 'demo.preview.example.com',
      holder: 'virtual cluster demo (namespace vcp-tree-demo)',
    },
    {
      name: 'the preview itself holds it (a push)',
      self: preview('alice/shop', 1, '').namespace,
      host: 'shop.preview.example.com',
      holder: undefined,
    },
    {
      name: 'nobody holds it',
      self: preview('alice/shop', 1, '').namespace,
      host: 'new.preview.example.com',
      holder: undefined,
    },
  ])('$name', ({ self, host, holder }) => {
    expect(previewHoldingHost(live, host, self)).toBe(holder);
  });

  it('labels hosts by a digest that fits a label value, whatever the host’s length or case', () => {
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.example.com`;
    expect(hostLabel(long)).toMatch(/^[0-9a-f]{40}$/);
    expect(hostLabel('Shop.Preview.Example.com')).toBe(hostLabel('shop.preview.example.com'));
  });
});
