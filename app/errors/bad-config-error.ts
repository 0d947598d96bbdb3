import { UnrecoverableError } from 'bullmq';

/**
 * Something only a person can fix (the repo's config file, a missing chart, a forbidden value): the
 * job fails at once instead of retrying, and the message is what the pull request is told.
 * It is an `UnrecoverableError`, so BullMQ itself never retries it.
 */
export class BadConfigError extends UnrecoverableError {
  override name = 'BadConfigError';
  constructor(
    /** What is wrong, without the hint. */
    readonly detail: string,
    /** What to do about it, when there is something specific to say. */
    readonly hint?: string,
  ) {
    super(hint ? `${detail} (${hint})` : detail);
  }
}
