import {
  type PreviewStatus,
  type ServiceClient,
  ServiceError,
  ServiceUnreachableError,
} from './service-client.ts';

/**
 * Polls the preview's status until it is over one way or the other (ready, failed, paused, gone,
 * waiting for approval) or the time is up, saying each change as it comes: place in line, steps.
 */

/** States that stay until someone asks for something else. */
export const FINAL_STATES: ReadonlySet<string> = new Set([
  'ready',
  'failed',
  'paused',
  'destroyed',
  'none',
  'waiting-approval',
]);

export class PreviewTimeoutError extends Error {
  override name = 'PreviewTimeoutError';
  constructor(
    timeoutMs: number,
    readonly last: PreviewStatus | undefined,
  ) {
    super(
      `the preview was not ready within ${Math.round(timeoutMs / 1000)} s (last state: ${last ? describeStatus(last) : 'unknown'}); ` +
        'raise the timeout input, or look at the sticky comment on the pull request',
    );
  }
}

const ordinal = (n: number) =>
  `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;

const STEP_MARK = { done: '✓', running: '…', failed: '✗', pending: '·' } as const;

/** One line about a status, e.g. `deploying: ✓ Read config (0.1 s), … Virtual cluster`. */
export function describeStatus(status: PreviewStatus): string {
  const parts = [status.state];
  if (status.queuePosition !== undefined) parts.push(`${ordinal(status.queuePosition)} in line`);
  const line = parts.join(', ');
  const steps = (status.steps ?? [])
    .map((step) => {
      const time =
        step.durationMs !== undefined && step.status !== 'pending'
          ? ` (${(step.durationMs / 1000).toFixed(1)} s)`
          : '';
      return `${STEP_MARK[step.status] ?? '·'} ${step.name}${time}`;
    })
    .join(', ');
  return steps ? `${line}: ${steps}` : line;
}

export interface WaitOptions {
  client: Pick<ServiceClient, 'status'>;
  statusUrl: string;
  timeoutMs: number;
  /** Default 3000 ms. */
  intervalMs?: number;
  log: (message: string) => void;
  warn: (message: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Failures worth polling through: the service restarting, Redis away for a moment. */
const transient = (error: unknown) =>
  error instanceof ServiceUnreachableError || (error instanceof ServiceError && error.status >= 500);

export async function waitForPreview(options: WaitOptions): Promise<PreviewStatus> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const intervalMs = options.intervalMs ?? 3000;
  const deadline = now() + options.timeoutMs;
  let last: PreviewStatus | undefined;
  let lastLine = '';
  for (;;) {
    try {
      const status = await options.client.status(options.statusUrl);
      last = status;
      const line = describeStatus(status);
      if (line !== lastLine) options.log(line);
      lastLine = line;
      if (FINAL_STATES.has(status.state)) return status;
    } catch (error) {
      if (!transient(error)) throw error;
      options.warn(`status not available right now, trying again: ${(error as Error).message}`);
    }
    if (now() + intervalMs > deadline) throw new PreviewTimeoutError(options.timeoutMs, last);
    await sleep(intervalMs);
  }
}
