/**
 * Writes that only matter in their newest form (the sticky comment's progress edits): `offer` never
 * waits, at most one write runs at a time, and while one runs only the newest offered value is kept
 * for the next. GitHub paces an app's writes about a second apart, so a reconcile that awaited every
 * step edit would spend most of its time waiting on GitHub; this lets the work go on meanwhile.
 */

export interface LatestWinsOptions<T, R> {
  write(value: T): Promise<R>;
  /** A background write failed; the next offer or `settle` tries again with newer state. */
  onError(error: unknown): void;
}

export class LatestWins<T, R> {
  private pending: { value: T } | undefined;
  private running: Promise<void> | undefined;
  private last: R | undefined;

  constructor(private readonly options: LatestWinsOptions<T, R>) {}

  /** Queues `value` to be written after the write in flight; replaces any value still waiting. */
  offer(value: T): void {
    this.pending = { value };
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * Writes `value` as the final word: waits for the write in flight, drops what was waiting (it is
   * older) and writes `value` itself, so its errors reach the caller.
   */
  async settle(value: T): Promise<R> {
    this.pending = undefined;
    await this.running;
    this.last = await this.options.write(value);
    return this.last;
  }

  /** What the newest finished write returned. */
  get lastResult(): R | undefined {
    return this.last;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const { value } = this.pending;
      this.pending = undefined;
      try {
        this.last = await this.options.write(value);
      } catch (error) {
        this.options.onError(error);
      }
    }
  }
}
