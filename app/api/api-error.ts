/**
 * An answer of the service API that is not a success: its HTTP status, what was wrong (`error`) and
 * what to do about it (`hint`), sent as JSON `{ error, hint }`. The Action prints both.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly hint: string,
    /** Headers of the answer, e.g. `retry-after` on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toJSON(): { error: string; hint: string } {
    return { error: this.message, hint: this.hint };
  }
}
