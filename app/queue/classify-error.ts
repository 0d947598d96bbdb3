import { UnrecoverableError } from 'bullmq';
import { messageOf, RepoConfigError, SubstitutionError } from '../../preview/index.ts';
import { RateLimitedError } from '../errors/rate-limited-error.ts';
import { httpStatusOf, rateLimitOf } from '../github/http-error.ts';

/**
 * What a failed reconcile should lead to. Reconciling is idempotent, so anything that might pass on
 * a second try is retried (with backoff, a bounded number of times); only what a retry cannot fix
 * fails at once.
 */
export type ErrorVerdict =
  /** A retry cannot help (bad config, an invalid request): fail now and tell the pull request. */
  | { kind: 'unrecoverable'; reason: string }
  /** Try again in `retryAfterMs`, without counting this as a failed attempt. */
  | { kind: 'rate-limited'; retryAfterMs: number; reason: string }
  /** Network trouble, 5xx, a conflict, or something unknown: retry with backoff. */
  | { kind: 'transient'; reason: string };

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

/** Statuses that say "the request itself is wrong"; sending it again gets the same answer. */
const INVALID_REQUEST = new Set([400, 422]);

type Record_ = Record<string, unknown>;
const isRecord = (value: unknown): value is Record_ => typeof value === 'object' && value !== null;

function networkCodeOf(error: unknown, depth = 0): string | undefined {
  if (!isRecord(error) || depth > 3) return undefined;
  if (typeof error.code === 'string' && (NETWORK_CODES.has(error.code) || error.code.startsWith('UND_ERR'))) {
    return error.code;
  }
  return networkCodeOf(error.cause, depth + 1);
}

/** Decides retry, delay or fail for an error thrown by a reconcile. Pure: `now` is only for dates. */
export function classifyError(error: unknown, now: number = Date.now()): ErrorVerdict {
  if (
    error instanceof UnrecoverableError ||
    error instanceof RepoConfigError ||
    error instanceof SubstitutionError ||
    (error instanceof Error && error.name === 'UnrecoverableError')
  ) {
    return { kind: 'unrecoverable', reason: messageOf(error) };
  }
  if (error instanceof RateLimitedError) {
    return { kind: 'rate-limited', retryAfterMs: Math.max(0, error.retryAfterMs), reason: error.message };
  }
  const status = httpStatusOf(error);
  if (status !== undefined) {
    // A limit that names no time is retried with backoff like any other failure.
    const retryAfterMs = rateLimitOf(error, now)?.waitMs;
    if (retryAfterMs !== undefined) {
      return { kind: 'rate-limited', retryAfterMs, reason: `HTTP ${status}: ${messageOf(error)}` };
    }
    if (INVALID_REQUEST.has(status)) {
      return {
        kind: 'unrecoverable',
        reason: `HTTP ${status}: ${messageOf(error)} (the request is invalid; sending it again cannot help)`,
      };
    }
    return { kind: 'transient', reason: `HTTP ${status}: ${messageOf(error)}` };
  }
  const code = networkCodeOf(error);
  if (code) return { kind: 'transient', reason: `${code}: ${messageOf(error)}` };
  return { kind: 'transient', reason: messageOf(error) };
}
