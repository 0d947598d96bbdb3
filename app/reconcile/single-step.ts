import { StepTracker } from '../../preview/steps.ts';
import type { CommandName } from '../commands.ts';
import type { StickyCommentState } from '../sticky-comment.ts';
import { singleStepFailure } from './failure-report.ts';
import { forQueue, type ReconcileRun } from './reconcile-run.ts';

/** What a reconcile answers the worker (its job's return value). */
export interface ReconcileOutcome {
  state: StickyCommentState['state'] | 'skipped';
  url?: string;
}

/**
 * A short job of one step (down, pause, resume): the step in the comment while `work` runs, then
 * the state it answers; a failure is reported with how to try again and rethrown for the queue.
 */
export async function runSingleStep(
  run: ReconcileRun,
  command: CommandName,
  step: string,
  running: Omit<StickyCommentState, 'steps'>,
  work: () => Promise<Omit<StickyCommentState, 'steps'>>,
): Promise<ReconcileOutcome> {
  const desired = run.job.desired.kind;
  const tracker = new StepTracker([step], (steps) => run.publish({ ...running, steps }, { desired, steps }));
  try {
    const final = await tracker.run(step, work);
    await run.report({ ...final, steps: tracker.snapshot() }, { desired, done: true });
    return { state: final.state, url: final.url };
  } catch (error) {
    await run
      .report(
        {
          state: 'failed',
          steps: tracker.snapshot(),
          error: singleStepFailure({ step, error, command, lastAttempt: run.lastAttempt }),
        },
        { desired, failed: step },
      )
      .catch((reportError) => run.log.warn({ err: reportError }, 'could not report the failure'));
    throw forQueue(error);
  }
}
