import { RateLimitedError } from './rate-limited-error.ts';

/**
 * The head commit's CI checks named by `waitFor.checks` have not all succeeded yet: the job is put
 * back for `retryAfterMs` without using up an attempt (a webhook of a finished check brings it
 * back sooner), until the config's `timeout`.
 */
export class WaitingForChecksError extends RateLimitedError {
  override name = 'WaitingForChecksError';
  constructor(
    /** The checks not succeeded yet: queued, in progress or not started. */
    readonly checks: string[],
    retryAfterMs: number,
  ) {
    super(retryAfterMs, `waiting for ${checks.length === 1 ? 'check' : 'checks'} ${checks.join(', ')}`);
  }
}
