import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hostName, hostNameClusterScoped, safeConcatName, sha256Hex } from './names.ts';

// Independent re-statement of the rule, so long-name rows are not checked against themselves.
function expectedShort(full: string): string {
  const digest = createHash('sha256').update(full).digest('hex').slice(0, 10);
  return `${full.slice(0, 52)}-${digest}`.split('.-').join('-');
}

const long52 = 'a'.repeat(40);

describe('safeConcatName', () => {
  it.each([
    { parts: ['web', 'x', 'default', 'x', 'pr-12'], expected: 'web-x-default-x-pr-12' },
    { parts: ['a'], expected: 'a' },
    { parts: [], expected: '' },
    // exactly 63 characters stay as they are
    { parts: ['b'.repeat(61), 'c'], expected: `${'b'.repeat(61)}-c` },
    // `.-` is only rewritten when the name was shortened
    { parts: ['my.', 'svc'], expected: 'my.-svc' },
  ])('$parts → $expected', ({ parts, expected }) => {
    expect(safeConcatName(...parts)).toBe(expected);
  });

  it.each([
    { parts: ['b'.repeat(62), 'c'] },
    { parts: [long52, 'x', 'some-long-namespace-name', 'x', 'pr-12345'] },
    { parts: ['d'.repeat(100)] },
  ])('shortens $parts.length parts over 63 characters to 52 + hash', ({ parts }) => {
    const full = parts.join('-');
    const got = safeConcatName(...parts);
    expect(got).toBe(expectedShort(full));
    expect(got).toHaveLength(63);
  });

  it('turns a cut right after a dot into a plain dash', () => {
    // character 52 (index 51) is a dot, so the cut leaves `.` followed by the `-` separator
    const parts = [`${'e'.repeat(51)}.${'f'.repeat(20)}`];
    const got = safeConcatName(...parts);
    const digest = createHash('sha256')
      .update(parts[0] ?? '')
      .digest('hex')
      .slice(0, 10);
    expect(got).toBe(`${'e'.repeat(51)}-${digest}`);
    expect(got).toHaveLength(62);
  });

  it('matches a literal precomputed value', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const full = `${'n'.repeat(50)}-x-default-x-vc`;
    expect(safeConcatName(`${'n'.repeat(50)}`, 'x', 'default', 'x', 'vc')).toBe(expectedShort(full));
  });
});

describe('hostName', () => {
  it.each([
    { name: 'nginx', ns: 'default', vc: 'pr-7', expected: 'nginx-x-default-x-pr-7' },
    { name: 'kube-root-ca.crt', ns: 'app', vc: 'vc', expected: 'kube-root-ca.crt-x-app-x-vc' },
    { name: '', ns: 'default', vc: 'vc', expected: '' },
  ])('$name in $ns of $vc → $expected', ({ name, ns, vc, expected }) => {
    expect(hostName(name, ns, vc)).toBe(expected);
  });

  it('shortens a 64-character name to a literal expected value', () => {
    expect(hostName('my-app-deployment-5d8f7c9b6-x7k2p9', 'feature-namespace', 'pr-1234')).toBe(
      'my-app-deployment-5d8f7c9b6-x7k2p9-x-feature-namespa-d8cd0c6985',
    );
  });

  it('shortens long names with the hash of the full joined name', () => {
    const name = 'a-very-long-deployment-name-7f9c8d6b5-abcde';
    const full = `${name}-x-preview-namespace-x-pr-12`;
    expect(full.length).toBeGreaterThan(63);
    expect(hostName(name, 'preview-namespace', 'pr-12')).toBe(expectedShort(full));
  });
});

describe('hostNameClusterScoped', () => {
  it.each([
    { name: 'pv-1', hostNs: 'vcluster-pr-1', vc: 'pr-1', expected: 'vcluster-pv-1-x-vcluster-pr-1-x-pr-1' },
    { name: '', hostNs: 'h', vc: 'v', expected: '' },
  ])('$name → $expected', ({ name, hostNs, vc, expected }) => {
    expect(hostNameClusterScoped(name, hostNs, vc)).toBe(expected);
  });
});
