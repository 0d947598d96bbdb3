// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { describe, expect, it } from 'vitest';
import { DEFAULT_URL_TEMPLATE, SubstitutionError } from '../repo-config.ts';
import { previewHost } from './url.ts';

const values = (name: string, baseDomain = 'preview.example.com', number = 12) => ({
  pr: { number },
  repo: { name, owner: 'Acme' },
  sha: 'abc123',
  baseDomain,
});

const isDnsName = (host: string) =>
  host.length <= 253 &&
  host.split('.').every((label) => label.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(label));

describe('previewHost', () => {
  it('fills in the default template', () => {
    expect(previewHost(undefined, values('shop'))).toBe('pr-12-shop-acme.preview.example.com');
  });

  it('gives two owners’ repositories of one name different hosts', () => {
    const alice = previewHost(undefined, { ...values('shop'), repo: { name: 'shop', owner: 'alice' } });
    const bob = previewHost(undefined, { ...values('shop'), repo: { name: 'shop', owner: 'bob' } });
    expect(alice).not.toBe(bob);
  });

  it.each([
    ['a host of its own', 'www.victim.com'],
    ['the domain alone', '${{ baseDomain }}'],
    ['more after the domain', 'x.${{ baseDomain }}.evil.com'],
  ])('refuses a template that leaves the preview domain: %s', (_name, template) => {
    expect(() => previewHost(template, values('shop'))).toThrow(
      /not a name under the preview domain preview\.example\.com/,
    );
  });

  it.each([
    ['Shop', /^pr-12-shop-acme\.preview\.example\.com$/],
    ['My_Shop', /^pr-12-my-shop-acme-[0-9a-f]{6}\.preview\.example\.com$/],
    ['shop.js', /^pr-12-shop-js-acme-[0-9a-f]{6}\.preview\.example\.com$/],
    ['--weird--name--', /^pr-12-weird-name-acme-[0-9a-f]{6}\.preview\.example\.com$/],
    ['Ünïcode Repo', /^pr-12-n-code-repo-acme-[0-9a-f]{6}\.preview\.example\.com$/],
  ])(
    'slugifies repository name %j (with a hash of the full name where a label cannot spell it)',
    (name, host) => {
      expect(previewHost(undefined, values(name))).toMatch(host);
    },
  );

  it('gives two repositories whose names slug alike different default hosts', () => {
    const hosts = ['shop.js', 'shop-js', 'shop_js'].map((name) => previewHost(undefined, values(name)));
    expect(new Set(hosts).size).toBe(3);
    // The config's schema writes the default in: the same host as none.
    expect(previewHost(DEFAULT_URL_TEMPLATE, values('shop.js'))).toBe(hosts[0]);
    // A custom template is the author's choice: the host check refuses a host another preview holds.
    expect(previewHost('${{ repo.name }}.${{ baseDomain }}', values('shop.js'))).toBe(
      previewHost('${{ repo.name }}.${{ baseDomain }}', values('shop-js')),
    );
  });

  it('keeps the dots of baseDomain and the template, and lowercases them', () => {
    expect(
      previewHost(
        '${{ repo.owner }}.${{ sha }}.pr${{ pr.number }}.${{ baseDomain }}',
        values('x', 'Apps.Example.COM'),
      ),
    ).toBe('acme.abc123.pr12.apps.example.com');
  });

  it('cuts long labels to 63 characters, ending in a hash that keeps them apart', () => {
    const a = previewHost(undefined, values(`${'a'.repeat(80)}-one`));
    const b = previewHost(undefined, values(`${'a'.repeat(80)}-two`));
    expect(a).not.toBe(b);
    expect(isDnsName(a)).toBe(true);
    expect(a.split('.')[0]).toHaveLength(63);
    expect(a.endsWith('.preview.example.com')).toBe(true);
  });

  it('keeps the whole name within 253 characters by cutting the first label', () => {
    const longDomain = Array.from({ length: 3 }, (_, i) => `${String(i).repeat(60)}`).join('.');
    const host = previewHost(undefined, values('shop-with-a-rather-long-name', `${longDomain}.example.com`));
    expect(host.length).toBeLessThanOrEqual(253);
    expect(isDnsName(host)).toBe(true);
    expect(host.endsWith(`${longDomain}.example.com`)).toBe(true);
  });

  it('refuses a domain too long for any first label, and unknown placeholders', () => {
    const tooLong = Array.from({ length: 4 }, () => 'd'.repeat(62)).join('.');
    expect(() => previewHost(undefined, values('shop', tooLong))).toThrow(/longer than 253/);
    expect(() => previewHost('pr-${{ pr.nubmer }}.${{ baseDomain }}', values('shop'))).toThrow(
      SubstitutionError,
    );
  });
});
