import { describe, expect, it } from 'vitest';
import { hostLabel } from './deploy/url.ts';
import { hostHolder } from './host-holder.ts';
import { labels } from './provider.ts';

const HOST = 'pr-1-shop-acme.preview.test';
const preview = (namespace: string, createdAt: string, host = HOST) => ({
  namespace,
  createdAt,
  labels: { [labels.host]: hostLabel(host) },
});

describe('hostHolder', () => {
  const older = preview('preview-a', '2026-12-07T10:00:00.000Z');
  const newer = preview('preview-b', '2026-12-07T10:00:01.000Z');
  it.each([
    {
      what: 'before its create: any other holder',
      previews: [older],
      namespace: 'preview-b',
      holder: 'preview-a',
    },
    {
      what: 'none holds it',
      previews: [preview('preview-a', older.createdAt, 'other.preview.test')],
      namespace: 'preview-b',
      holder: undefined,
    },
    {
      what: 'after both were made at once: the later one yields',
      previews: [older, newer],
      namespace: 'preview-b',
      holder: 'preview-a',
    },
    {
      what: 'after both were made at once: the earlier one keeps it',
      previews: [older, newer],
      namespace: 'preview-a',
      holder: undefined,
    },
    {
      what: 'made in one instant: the namespace name decides',
      previews: [preview('preview-a', older.createdAt), preview('preview-b', older.createdAt)],
      namespace: 'preview-b',
      holder: 'preview-a',
    },
    { what: 'its own alone', previews: [older], namespace: 'preview-a', holder: undefined },
  ])('$what', ({ previews, namespace, holder }) => {
    expect(hostHolder(previews, HOST, namespace)?.namespace).toBe(holder);
  });
});
