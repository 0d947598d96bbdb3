import { describe, expect, it } from 'vitest';
import { hostLabel } from '../preview/deploy/index.ts';
import { labels } from '../preview/provider.ts';
import { previewHoldingHost, previewLabels, REPO_ANNOTATION } from './preview-metadata.ts';

const preview = (repo: string, pr: number, host: string) => ({
  labels: { ...previewLabels(repo, pr), [labels.host]: hostLabel(host) },
  annotations: { [REPO_ANNOTATION]: repo },
});

describe('previewHoldingHost', () => {
  const live = [
    preview('alice/shop', 1, 'shop.preview.example.com'),
    preview('bob/web', 2, 'web.preview.example.com'),
  ];

  it.each([
    {
      name: 'another repository’s preview holds the host',
      self: { repo: 'mallory/shop', pr: 1 },
      host: 'shop.preview.example.com',
      holder: 'alice/shop#1',
    },
    {
      name: 'another pull request of the same repository holds it',
      self: { repo: 'alice/shop', pr: 9 },
      host: 'shop.preview.example.com',
      holder: 'alice/shop#1',
    },
    {
      name: 'the preview itself holds it (a push)',
      self: { repo: 'Alice/Shop', pr: 1 },
      host: 'shop.preview.example.com',
      holder: undefined,
    },
    {
      name: 'nobody holds it',
      self: { repo: 'mallory/shop', pr: 1 },
      host: 'other.preview.example.com',
      holder: undefined,
    },
  ])('$name', ({ self, host, holder }) => {
    const found = previewHoldingHost(live, host, self);
    expect(found && `${found.repo}#${found.pr}`).toBe(holder);
  });

  it('labels hosts by a digest that fits a label value, whatever the host’s length or case', () => {
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.example.com`;
    expect(hostLabel(long)).toMatch(/^[0-9a-f]{40}$/);
    expect(hostLabel('Shop.Preview.Example.com')).toBe(hostLabel('shop.preview.example.com'));
  });
});
