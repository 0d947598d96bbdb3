/**
 * What the waker holds at once: requests waiting for a preview to wake, at most `perPreview` for one
 * preview and `total` in all (a held request keeps a socket open), and when it last asked for a
 * preview's resume, so that a burst of requests asks once and a refused ask is tried again later.
 */
export class HeldRequests {
  private readonly held = new Map<string, number>();
  private readonly asked = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly limits: { perPreview: number; total: number; askEveryMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a place for a request to `preview`; answers its release, or undefined when full. */
  hold(preview: string): (() => void) | undefined {
    const mine = this.held.get(preview) ?? 0;
    if (mine >= this.limits.perPreview || this.count >= this.limits.total) return undefined;
    this.held.set(preview, mine + 1);
    this.count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.count--;
      const left = (this.held.get(preview) ?? 1) - 1;
      if (left > 0) this.held.set(preview, left);
      else {
        this.held.delete(preview);
        this.asked.delete(preview);
      }
    };
  }

  /** Whether to ask for `preview`'s resume now: not when asked within the last `askEveryMs`. */
  shouldAsk(preview: string): boolean {
    const at = this.asked.get(preview);
    const now = this.now();
    if (at !== undefined && now - at < this.limits.askEveryMs) return false;
    this.asked.set(preview, now);
    return true;
  }

  /** Requests held now, in all and for `preview`. */
  size(preview?: string): number {
    return preview === undefined ? this.count : (this.held.get(preview) ?? 0);
  }
}
