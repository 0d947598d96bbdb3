/**
 * An API said "not now, in `retryAfterMs`" (GitHub's secondary rate limit, a 429 with
 * `retry-after`). The job is put back for that long; it does not count as a failed attempt.
 */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    readonly retryAfterMs: number,
    message = `rate limited; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
