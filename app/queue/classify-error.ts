import { UnrecoverableError } from 'bullmq';
import { RepoConfigError, SubstitutionError } from '../../preview/repo-config.ts';
import { RateLimitedError } from '../errors/rate-limited-error.ts';

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

/** The HTTP status of an Octokit `RequestError`, a client-node `ApiException`, a fetch response error… */
export function httpStatusOf(error: unknown): number | undefined {
  if (!isRecord(error)) return undefined;
  const response = isRecord(error.response) ? error.response : undefined;
  for (const candidate of [
    error.status,
    error.statusCode,
    error.code,
    response?.status,
    response?.statusCode,
  ]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
  }
  return undefined;
}

function headerOf(error: Record_, name: string): string | undefined {
  const response = isRecord(error.response) ? error.response : undefined;
  for (const headers of [response?.headers, error.headers]) {
    if (!isRecord(headers)) continue;
    if (typeof headers.get === 'function') {
      const value = (headers.get as (key: string) => unknown).call(headers, name);
      if (typeof value === 'string') return value;
      continue;
    }
    const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
    const value = key === undefined ? undefined : headers[key];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return undefined;
}

/** `retry-after: 30` or `retry-after: <HTTP date>`, in milliseconds from `now`. */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** How long an HTTP error asks us to wait: `retry-after`, or GitHub's exhausted `x-ratelimit-reset`. */
function retryAfterOf(error: Record_, status: number, now: number): number | undefined {
  if (status !== 429 && status !== 403) return undefined;
  const retryAfter = headerOf(error, 'retry-after');
  if (retryAfter !== undefined) return parseRetryAfter(retryAfter, now);
  if (headerOf(error, 'x-ratelimit-remaining') === '0') {
    const reset = Number(headerOf(error, 'x-ratelimit-reset'));
    // One second past the reset, so the new window has surely begun.
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now) + 1000;
  }
  return undefined;
}

function networkCodeOf(error: unknown, depth = 0): string | undefined {
  if (!isRecord(error) || depth > 3) return undefined;
  if (typeof error.code === 'string' && (NETWORK_CODES.has(error.code) || error.code.startsWith('UND_ERR'))) {
    return error.code;
  }
  return networkCodeOf(error.cause, depth + 1);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

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
  if (status !== undefined && isRecord(error)) {
    const retryAfterMs = retryAfterOf(error, status, now);
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
