import type { QueuePlace } from '../queue/preview-queue.ts';

/**
 * Whether a finished check run or check suite should bring a pull request's preview job back now
 * rather than at its next poll. Pure. Only checks the repo config waits for count, and only for a
 * preview held back (its job delayed) or finished (a failed check re-run): a job that waits to
 * start or runs reads the check runs itself, and other checks finishing must not redeploy a preview.
 */
export interface CheckEvent {
  /** A check suite names no checks: it wakes only a job that is held back. */
  kind: 'check_run' | 'check_suite';
  /** The check run's name. */
  name?: string;
  /** `waitFor.checks` of the repo config; empty or left out when it waits for none. */
  waitFor: readonly string[] | undefined;
  place: QueuePlace['state'];
}

export function wakesPreview(event: CheckEvent): boolean {
  if (!event.waitFor || event.waitFor.length === 0) return false;
  if (event.kind === 'check_suite') return event.place === 'delayed';
  if (event.name === undefined || !event.waitFor.includes(event.name)) return false;
  return event.place === 'delayed' || event.place === 'none';
}
