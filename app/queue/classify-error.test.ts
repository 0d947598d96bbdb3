import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { RepoConfigError } from '../../preview/repo-config.ts';
import { BadConfigError } from '../errors/bad-config-error.ts';
import { RateLimitedError } from '../errors/rate-limited-error.ts';
import { classifyError } from './classify-error.ts';

const now = Date.parse('2025-01-01T00:00:00Z');

/** Shaped like Octokit's RequestError. */
const requestError = (status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`request failed with ${status}`), { status, response: { status, headers } });

describe('classifyError', () => {
  it('fails at once on what a retry cannot fix', () => {
    expect(classifyError(new UnrecoverableError('nope')).kind).toBe('unrecoverable');
    expect(classifyError(new BadConfigError('no manifests folder', 'add one')).kind).toBe('unrecoverable');
    expect(
      classifyError(new RepoConfigError([{ line: 3, path: 'expose.port', message: 'expected a number' }])),
    ).toMatchObject({ kind: 'unrecoverable', reason: expect.stringContaining(':3: expose.port') });
    expect(classifyError(requestError(422))).toMatchObject({
      kind: 'unrecoverable',
      reason: expect.stringContaining('HTTP 422'),
    });
  });

  it('retries network trouble, 5xx, conflicts and unknown errors', () => {
    for (const status of [500, 502, 503, 504, 409, 408, 429, 404, 401]) {
      expect(classifyError(requestError(status)).kind, `HTTP ${status}`).toBe('transient');
    }
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyError(reset)).toEqual({ kind: 'transient', reason: 'ECONNRESET: socket hang up' });
    const fetchFailed = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
    });
    expect(classifyError(fetchFailed).reason).toContain('UND_ERR_CONNECT_TIMEOUT');
    expect(classifyError(new Error('who knows')).kind).toBe('transient');
    expect(classifyError('a string').kind).toBe('transient');
    // client-node's ApiException carries the status as a numeric `code`.
    expect(classifyError(Object.assign(new Error('HTTP-Code: 503'), { code: 503 })).reason).toContain(
      'HTTP 503',
    );
  });

  it('delays what asks to be retried later, by the time asked', () => {
    expect(classifyError(new RateLimitedError(1500))).toMatchObject({
      kind: 'rate-limited',
      retryAfterMs: 1500,
    });
    expect(classifyError(requestError(429, { 'retry-after': '30' }), now)).toMatchObject({
      kind: 'rate-limited',
      retryAfterMs: 30_000,
    });
    // GitHub's secondary rate limit: 403 with retry-after.
    expect(classifyError(requestError(403, { 'Retry-After': '60' }), now)).toMatchObject({
      kind: 'rate-limited',
      retryAfterMs: 60_000,
    });
    // Primary rate limit used up: wait until the reset, plus a second.
    const reset = String(now / 1000 + 120);
    expect(
      classifyError(requestError(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }), now),
    ).toMatchObject({ kind: 'rate-limited', retryAfterMs: 121_000 });
    // A 403 that is not about rate limits is just retried.
    expect(classifyError(requestError(403, { 'x-ratelimit-remaining': '4000' }), now).kind).toBe('transient');
  });

  it('reads headers from a fetch Headers object too', () => {
    const error = Object.assign(new Error('slow down'), {
      response: { status: 429, headers: new Headers({ 'retry-after': '2' }) },
    });
    expect(classifyError(error, now)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 2000 });
  });
});
