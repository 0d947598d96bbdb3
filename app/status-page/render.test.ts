import { describe, expect, it } from 'vitest';
import type { PreviewRow } from './preview-rows.ts';
import type { StatusPageData } from './read-status.ts';
import { escapeHtml, formatAge, formatDuration, renderPreviewPage, renderStatusPage } from './render.ts';

const NOW = new Date('2026-12-06T20:00:00.000Z');
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const counts = { waiting: 2, active: 1, delayed: 0, failed: 3 };

const ready: PreviewRow = {
  key: 'pr-acme--shop-12',
  subject: { kind: 'pull-request', repo: 'acme/shop', pr: 12 },
  state: 'ready',
  paused: false,
  url: 'http://pr-12-acme--shop.preview.test/',
  sha: sha('a'),
  namespace: 'preview-pr-12-acme--shop',
  createdAt: '2026-12-06T17:55:00.000Z',
  lastActivity: '2026-12-06T19:58:30.000Z',
  steps: [
    { name: 'Read config', status: 'done', durationMs: 420 },
    { name: 'Virtual cluster', status: 'done', durationMs: 12_340 },
    { name: 'Deploy', status: 'done', durationMs: 125_000 },
    { name: 'Expose', status: 'done', durationMs: 80 },
  ],
};
const failed: PreviewRow = {
  key: 'pr-acme--shop-13',
  subject: { kind: 'pull-request', repo: 'acme/shop', pr: 13 },
  state: 'failed',
  paused: false,
  sha: sha('b'),
  error: 'Deploy failed:\nDeployment web: spec.replicas: Invalid value: -1',
  hint: 'Fix the objects named above in your manifests and push a commit.',
  steps: [
    { name: 'Read config', status: 'done', durationMs: 30 },
    { name: 'Deploy', status: 'failed', durationMs: 900 },
    { name: 'Expose', status: 'pending' },
  ],
};
const paused: PreviewRow = {
  ...ready,
  key: 'pr-acme--shop-14',
  subject: { kind: 'pull-request', repo: 'acme/shop', pr: 14 },
  state: 'paused',
  paused: true,
};
const tree: PreviewRow = {
  key: 'tree-hello',
  subject: { kind: 'tree', name: 'hello', dir: '/home/me/hello' },
  state: 'ready',
  paused: false,
  url: 'http://hello.preview.localhost/',
  sha: `${sha('c')}-dirty`,
};
const hostile: PreviewRow = {
  key: 'pr-evil--x-1',
  subject: { kind: 'pull-request', repo: 'evil/<b>x</b>', pr: 1 },
  state: 'failed',
  paused: false,
  url: 'http://x.preview.test/"><script>alert(1)</script>',
  error: 'Deploy failed: <script>alert("pwned")</script> & more',
  hint: "<img src=x onerror='alert(2)'>",
};

const overview = (previews: PreviewRow[], extra: Partial<StatusPageData> = {}): StatusPageData => ({
  previews,
  counts,
  problems: [],
  ...extra,
});

/** What a reader sees: tags stripped, entities decoded, white space collapsed. */
const textOf = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('renderStatusPage', () => {
  const cases: { name: string; data: StatusPageData; shows: (string | RegExp)[]; hides?: string[] }[] = [
    {
      name: 'empty list',
      data: overview([]),
      shows: ['Queue: 2 waiting 1 active 0 delayed 3 failed', 'No previews yet'],
    },
    {
      name: 'a ready preview',
      data: overview([ready]),
      shows: [
        'acme/shop #12 ready',
        `URL http://pr-12-acme--shop.preview.test/ Commit ${sha('a').slice(0, 12)} Sleeping no Age 2h 05m Last activity 1m ago`,
      ],
      hides: ['No previews yet', 'Deploy failed'],
    },
    {
      name: 'a failed one, with its error',
      data: overview([failed]),
      shows: ['acme/shop #13 failed', 'Deploy failed: Deployment web: spec.replicas: Invalid value: -1'],
      hides: ['URL '],
    },
    {
      name: 'a paused one: sleeping',
      data: overview([paused]),
      shows: ['acme/shop #14 paused', 'Sleeping yes (paused)'],
    },
    {
      name: 'a working tree',
      data: overview([tree]),
      shows: ['working tree hello (/home/me/hello) ready', `Commit ${sha('c').slice(0, 12)}-dirty Sleeping`],
    },
    {
      name: 'what could not be read, and no counts',
      data: overview([], { counts: undefined, problems: ['the queue (Redis) cannot be read: ECONNREFUSED'] }),
      shows: ['Queue: unknown', 'the queue (Redis) cannot be read: ECONNREFUSED'],
    },
  ];
  for (const { name, data, shows, hides = [] } of cases) {
    it(name, () => {
      const text = textOf(renderStatusPage(data, NOW));
      for (const shown of shows) expect(text).toContain(shown);
      for (const hidden of hides) expect(text).not.toContain(hidden);
    });
  }

  it('links each preview to its page and its URL; refreshes itself and fits a phone', () => {
    const html = renderStatusPage(overview([ready, tree]), NOW);
    expect(html).toContain('<a href="previews/pr-acme--shop-12">acme/shop #12</a>');
    expect(html).toContain('<a href="previews/tree-hello">working tree hello (/home/me/hello)</a>');
    expect(html).toContain(
      '<a href="http://pr-12-acme--shop.preview.test/">http://pr-12-acme--shop.preview.test/</a>',
    );
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toContain('<script');
  });

  it('escapes everything a pull request wrote: names, URLs, errors', () => {
    const html = renderStatusPage(overview([hostile]), NOW);
    expect(html).not.toMatch(/<script|<b>|<img/);
    expect(html).toContain('Deploy failed: &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('evil/&lt;b&gt;x&lt;/b&gt; #1');
    expect(html).toContain('href="http://x.preview.test/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });
});

describe('renderPreviewPage', () => {
  const page = (preview: PreviewRow | undefined, syncerLines: string[] = []) =>
    renderPreviewPage(
      { ...overview(preview ? [preview] : []), ...(preview ? { preview } : {}), syncerLines },
      preview?.key ?? 'pr-gone-1',
      NOW,
    );

  it('a ready preview: its step timeline with durations, and the syncer’s lines', () => {
    const text = textOf(page(ready, ['20:00:01 INFO synced (kind Pod, key default/web-1)']));
    expect(text).toContain(
      'Read config done 420 ms Virtual cluster done 12.3 s Deploy done 2m 05s Expose done 80 ms',
    );
    expect(text).toContain('Namespace preview-pr-12-acme--shop');
    expect(text).toContain('20:00:01 INFO synced (kind Pod, key default/web-1)');
    expect(text).not.toContain('Last error');
    expect(page(ready)).toContain('<a href="../">');
  });

  it('a failed preview: the failed step, the whole error and its hint', () => {
    const text = textOf(page(failed));
    expect(text).toContain('Deploy failed 900 ms Expose pending');
    expect(text).toContain(
      'Last error Deploy failed: Deployment web: spec.replicas: Invalid value: -1 Fix the objects named above',
    );
    expect(text).toContain('Nothing logged by the syncer to show');
  });

  it('a paused one and a working tree', () => {
    expect(textOf(page(paused))).toContain('acme/shop #14 paused');
    expect(textOf(page(paused))).toContain('Sleeping yes (paused)');
    expect(textOf(page(tree))).toContain('working tree hello (/home/me/hello) ready');
  });

  it('escapes the error, the hint and the syncer’s lines', () => {
    const html = page(hostile, ['<script>alert(3)</script>']);
    expect(html).not.toMatch(/<script|<img/);
    expect(textOf(html)).toContain(`Deploy failed: <script>alert("pwned")</script> & more`);
    expect(textOf(html)).toContain("<img src=x onerror='alert(2)'>");
  });

  it('no such preview: says so, with the way back', () => {
    const text = textOf(page(undefined));
    expect(text).toContain('No preview pr-gone-1');
    expect(text).toContain('all previews');
  });
});

describe('formatting', () => {
  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [3_600_000 + 5 * 60_000, '1h 05m'],
    [50 * 3_600_000, '2d 2h'],
    [-5000, '0s'],
  ])('formatAge(%i) = %s', (ms, text) => expect(formatAge(ms)).toBe(text));

  it.each([
    [850, '850 ms'],
    [12_340, '12.3 s'],
    [125_000, '2m 05s'],
  ])('formatDuration(%i) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('escapeHtml', () =>
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;'));
});
