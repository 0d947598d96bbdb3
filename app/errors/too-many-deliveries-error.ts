/**
 * An installation sent more webhook deliveries in a minute than the service takes. Its `status` is
 * what Probot's webhook middleware answers (429), so GitHub's delivery log shows it as failed and
 * it can be redelivered; nothing of it was handled.
 */
export class TooManyDeliveriesError extends Error {
  override name = 'TooManyDeliveriesError';
  readonly status = 429;
  constructor(
    readonly installation: string,
    readonly perMinute: number,
    readonly retryAfterMs: number,
  ) {
    super(
      `installation ${installation} sent more than ${perMinute} webhook deliveries in a minute; this one was not handled: redeliver it from the App's advanced settings in ${Math.ceil(retryAfterMs / 1000)} s`,
    );
  }
}
