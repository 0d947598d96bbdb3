export interface WorkQueueOptions {
  /** First retry delay after a failure; doubles with each further failure of the same key. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** What a worker got: the key and when it was first queued since it was last taken. */
export interface QueueItem {
  key: string;
  queuedAt: number;
}

/**
 * A keyed work queue with client-go's guarantees: a key waits in the queue at most once, a key is
 * never handed to two workers at once, and a key added while it is being processed is handed
 * out again once `done` is called. Failed keys come back with per-key exponential backoff.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  /** Keys added with addUrgent, handed out before `queue`; short-lived, so a plain array. */
  private readonly urgent: string[] = [];
  /** Keys waiting to be processed, with the time they were first added. */
  private readonly dirty = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: Array<(item: QueueItem | undefined) => void> = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
  }

  /** Keys waiting (not counting those being processed or delayed). */
  get depth(): number {
    return this.queue.length - this.head + this.urgent.length;
  }

  get isShutDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    this.enqueue(key, this.queue);
  }

  /**
   * Adds the key ahead of every key added with `add` (once: a key already waiting keeps its place).
   * For work nothing else can start without, like creating a new pod's host twin, so a burst of
   * status updates does not stand between a user's new pod and the host.
   */
  addUrgent(key: string): void {
    this.enqueue(key, this.urgent);
  }

  private enqueue(key: string, lane: string[]): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.set(key, Date.now());
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      const queuedAt = this.dirty.get(key)!;
      this.take(key);
      waiter({ key, queuedAt });
      return;
    }
    lane.push(key);
  }

  /** Adds the key after a delay; a later addAfter for the same key replaces an earlier pending one. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const pending = this.timers.get(key);
    if (pending) clearTimeout(pending);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Adds the key again after its backoff, which grows with each call until `forget`. */
  addRateLimited(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure count after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key, or undefined once the queue is shut down. */
  get(): Promise<QueueItem | undefined> {
    const urgent = this.urgent.shift();
    if (urgent !== undefined) {
      const queuedAt = this.dirty.get(urgent) ?? Date.now();
      this.take(urgent);
      return Promise.resolve({ key: urgent, queuedAt });
    }
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      const queuedAt = this.dirty.get(key) ?? Date.now();
      this.take(key);
      return Promise.resolve({ key, queuedAt });
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks the key processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      const queuedAt = this.dirty.get(key)!;
      this.dirty.delete(key);
      this.add(key);
      // Keep the original time: the latency metric counts from the first add.
      if (this.dirty.has(key)) this.dirty.set(key, queuedAt);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters) waiter(undefined);
    this.waiters = [];
  }

  private take(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
  }
}
