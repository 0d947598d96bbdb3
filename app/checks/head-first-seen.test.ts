import { describe, expect, it } from 'vitest';
import { headFirstSeenIn } from './head-first-seen.ts';

/** The store's contract (headSeen keeps the first time of the same head) in memory. */
const memoryHeads = () => {
  const heads = new Map<string, { sha: string; at: string }>();
  return {
    async headSeen(repo: string, pr: number, sha: string, at: string) {
      if (heads.get(`${repo}#${pr}`)?.sha !== sha) heads.set(`${repo}#${pr}`, { sha, at });
    },
    async headSeenAt(repo: string, pr: number, sha: string) {
      const noted = heads.get(`${repo}#${pr}`);
      return noted?.sha === sha ? noted.at : undefined;
    },
  };
};

describe('headFirstSeenIn', () => {
  it('keeps the time a head was first seen, and starts again for a new head', async () => {
    let clock = Date.parse('2026-01-01T10:00:00Z');
    const firstSeen = headFirstSeenIn(memoryHeads(), () => clock);
    expect(await firstSeen('acme/shop', 1, 'aaa')).toBe(Date.parse('2026-01-01T10:00:00Z'));
    clock += 60_000;
    expect(await firstSeen('acme/shop', 1, 'aaa')).toBe(Date.parse('2026-01-01T10:00:00Z'));
    expect(await firstSeen('acme/shop', 2, 'aaa')).toBe(clock);
    clock += 60_000;
    expect(await firstSeen('acme/shop', 1, 'bbb')).toBe(clock);
  });
});
