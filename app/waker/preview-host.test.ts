import { describe, expect, it } from 'vitest';
import { previewHostOf } from './preview-host.ts';

describe('previewHostOf', () => {
  it.each([
    ['pr-1-shop.preview.localhost:8080', 'pr-1-shop.preview.localhost'],
    ['PR-1-Shop.Preview.Localhost', 'pr-1-shop.preview.localhost'],
    ['pr-1-shop.preview.localhost.', 'pr-1-shop.preview.localhost'],
    ['a.b.preview.localhost', 'a.b.preview.localhost'],
    ['preview.localhost', undefined],
    ['127.0.0.1:3000', undefined],
    ['evilpreview.localhost', undefined],
    ['-x.preview.localhost', undefined],
    ['x..preview.localhost', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s', (header, expected) => {
    expect(previewHostOf(header, 'preview.localhost')).toBe(expected);
  });
});
