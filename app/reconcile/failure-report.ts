import { messageOf } from '../../preview/index.ts';
import type { CommandName } from '../commands.ts';
import { BadConfigError } from '../errors/bad-config-error.ts';

/**
 * What the sticky comment says when a step of a reconcile fails (pure): which step, why, and what
 * to do about it, which depends on whether anything retries it.
 */

export interface FailureText {
  message: string;
  hint?: string;
}

/** After a failure on the last attempt: how to try again. */
export const noAttemptsLeft = (command: CommandName) =>
  `No attempts left: comment \`/vcluster ${command}\` to try again.`;

/** A short job of one step (down, pause, resume) failed. */
export function singleStepFailure(options: {
  step: string;
  error: unknown;
  command: CommandName;
  lastAttempt: boolean;
}): FailureText {
  return {
    message: `${options.step} failed: ${messageOf(options.error)}`,
    hint: options.lastAttempt
      ? noAttemptsLeft(options.command)
      : 'vcluster-preview is retrying this automatically.',
  };
}

/**
 * Bringing a preview up failed at `step` (undefined: before the first step). A bad config is the
 * author's to fix, and its own hint says how; anything else is retried until the last attempt.
 */
export function bringUpFailure(options: {
  step: string | undefined;
  error: unknown;
  lastAttempt: boolean;
  /** The attempt that failed (1 for the first), for the "retrying" note. */
  attempt?: number;
  /** A paragraph of what the syncer saw, or ''. */
  syncerSaw: string;
}): FailureText {
  const { error, lastAttempt, attempt } = options;
  const bad = error instanceof BadConfigError;
  const givesUp = bad || lastAttempt;
  const hint = bad
    ? error.hint
      ? `${error.hint.charAt(0).toUpperCase()}${error.hint.slice(1)}.`
      : undefined
    : lastAttempt
      ? `${noAttemptsLeft('redeploy')} \`/vcluster reset\` starts again from an empty virtual cluster.`
      : `vcluster-preview retries this automatically${attempt ? ` (attempt ${attempt} failed)` : ''}; if it keeps failing, comment \`/vcluster reset\`.`;
  const detail = bad ? error.detail : messageOf(error);
  return {
    message: `${options.step ?? 'Preparing'} failed${givesUp ? '' : ' (retrying)'}:\n${detail}${options.syncerSaw}`,
    ...(hint ? { hint } : {}),
  };
}
