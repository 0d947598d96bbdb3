import { describe, expect, it } from 'vitest';
import { httpStatusOf, parseRetryAfter, rateLimitOf } from './http-error.ts';

const now = Date.parse('2025-01-01T00:00:00Z');

/** Shaped like Octokit's RequestError. */
const requestError = (
  status: number,
  headers: Record<string, string> = {},
  message = `request failed with ${status}`,
) => Object.assign(new Error(message), { status, response: { status, headers } });

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter(' 0.5 ', now)).toBe(500);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter(new Date(now - 90_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('httpStatusOf', () => {
  it('finds the status where the usual clients put it', () => {
    expect(httpStatusOf({ status: 404 })).toBe(404);
    expect(httpStatusOf({ statusCode: 500 })).toBe(500);
    expect(httpStatusOf({ response: { statusCode: 409 } })).toBe(409);
    expect(httpStatusOf({ code: 'ECONNRESET' })).toBeUndefined();
    expect(httpStatusOf(new Error('plain'))).toBeUndefined();
  });
});

describe('rateLimitOf', () => {
  it.each([
    ['429 with retry-after seconds', requestError(429, { 'retry-after': '30' }), { waitMs: 30_000 }],
    [
      '429 with retry-after as a date',
      requestError(429, { 'Retry-After': new Date(now + 90_000).toUTCString() }),
      { waitMs: 90_000 },
    ],
    [
      '403 with retry-after (secondary limit)',
      requestError(403, { 'retry-after': '60' }),
      { waitMs: 60_000 },
    ],
    [
      '403 with the primary limit used up: one second past the reset',
      requestError(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 120) }),
      { waitMs: 121_000 },
    ],
    ['429 that names no time', requestError(429), {}],
    [
      '403 with the secondary limit message and no time',
      requestError(403, {}, 'You have exceeded a secondary rate limit'),
      {},
    ],
    ['403 about something else', requestError(403, { 'x-ratelimit-remaining': '4000' }), undefined],
    ['500', requestError(500, { 'retry-after': '5' }), undefined],
    ['not HTTP', new Error('plain'), undefined],
  ])('%s', (_what, error, expected) => {
    expect(rateLimitOf(error, now)).toStrictEqual(expected);
  });
});
