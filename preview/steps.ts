/**
 * The step checklist of one run of a preview (read config, virtual cluster, deploy, expose): each
 * step is timed and, as it starts and ends, the whole picture is published (the sticky comment's
 * ⏳ → ✅/❌ and the job's progress for a pull request, the terminal for a working tree).
 */

export type StepStatus = 'done' | 'running' | 'failed' | 'pending';

export interface PreviewStep {
  name: string;
  status: StepStatus;
  /** Time spent so far (running) or in total (done, failed). */
  durationMs?: number;
}

/** The steps of bringing a preview up, in order, with the names users see. */
export const STEPS = {
  config: 'Read config',
  cluster: 'Virtual cluster',
  deploy: 'Deploy',
  expose: 'Expose',
  delete: 'Delete virtual cluster',
  pause: 'Pause virtual cluster',
  resume: 'Resume virtual cluster',
} as const;

export type Publish = (steps: PreviewStep[]) => Promise<void>;

export class StepTracker {
  readonly steps: PreviewStep[];
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
  snapshot(): PreviewStep[] {
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
