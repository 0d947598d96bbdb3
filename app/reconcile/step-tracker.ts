import type { StickyCommentState, StickyStep } from '../sticky-comment.ts';

/**
 * The step checklist of one reconcile: each step is timed and, as it starts and ends, the whole
 * picture is published (sticky comment ⏳ → ✅/❌, job progress).
 */

export type Publish = (steps: StickyStep[]) => Promise<void>;

export class StepTracker {
  readonly steps: StickyStep[];
  /** The step that failed, once one has. */
  failed?: string;

  constructor(
    names: readonly string[],
    private readonly publish: Publish,
    private readonly now: () => number = Date.now,
  ) {
    this.steps = names.map((name) => ({ name, status: 'pending' }));
  }

  /** A copy, so a later change does not rewrite what was already published. */
  snapshot(): StickyStep[] {
    return this.steps.map((step) => ({ ...step }));
  }

  /** Runs `work` as step `name`: published running, then done (or failed, and the error rethrown). */
  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const step = this.steps.find((candidate) => candidate.name === name);
    if (!step) throw new Error(`unknown step ${name}`);
    const started = this.now();
    step.status = 'running';
    step.durationMs = undefined;
    await this.publish(this.snapshot());
    try {
      const result = await work();
      step.status = 'done';
      step.durationMs = this.now() - started;
      await this.publish(this.snapshot());
      return result;
    } catch (error) {
      step.status = 'failed';
      step.durationMs = this.now() - started;
      this.failed = name;
      throw error;
    }
  }
}

/** The sticky comment's state with the steps so far. */
export const withSteps = (state: StickyCommentState, tracker: StepTracker): StickyCommentState => ({
  ...state,
  steps: tracker.snapshot(),
});
