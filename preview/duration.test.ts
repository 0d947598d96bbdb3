import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['72h', 259_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    [' 1d ', 86_400_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '7', 'd', '7 days', '1.5h', '7D', '-1h', 'h1', '0m', '0h0m'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/duration|zero/);
  });
});
