import { RateLimitedError } from './rate-limited-error.ts';

/**
 * The preview cap is reached: this pull request waits in line for a free slot. Like a rate limit, the
 * job is put back for `retryAfterMs` without using up an attempt, however long the wait.
 */
export class WaitingForSlotError extends RateLimitedError {
  override name = 'WaitingForSlotError';
  constructor(
    /** 1-based place among the pull requests waiting for a slot. */
    readonly place: number,
    /** For the pull request: what holds it back. */
    readonly reason: string,
    retryAfterMs: number,
    /** Whether the place differs from the one last told, so the comment is edited only then. */
    readonly placeChanged = true,
  ) {
    super(retryAfterMs, `waiting for a preview slot, place ${place} in line: ${reason}`);
  }
}
