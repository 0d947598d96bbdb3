/**
 * What an HTTP failure says (pure), whoever threw it: an Octokit `RequestError`, a client-node
 * `ApiException`, a fetch response error. One reading of statuses, headers and GitHub's rate limits
 * for the whole service.
 */

type Record_ = Record<string, unknown>;
const isRecord = (value: unknown): value is Record_ => typeof value === 'object' && value !== null;

/** The HTTP status of an error, when it has one. */
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

/** A response header of an error (any case; a plain object or a fetch `Headers`). */
export function headerOf(error: unknown, name: string): string | undefined {
  if (!isRecord(error)) return undefined;
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

/**
 * Whether a failure is one of GitHub's rate limits (429; 403 with `retry-after`, an exhausted
 * `x-ratelimit-remaining`, or the secondary limit's message), and how long it asks to wait when it
 * says: `retry-after`, or one second past `x-ratelimit-reset` (clocks differ a little). Undefined
 * for any other failure.
 */
export function rateLimitOf(error: unknown, now: number): { waitMs?: number } | undefined {
  const status = httpStatusOf(error);
  if (status !== 429 && status !== 403) return undefined;
  const retryAfter = headerOf(error, 'retry-after');
  const exhausted = headerOf(error, 'x-ratelimit-remaining') === '0';
  const message = error instanceof Error ? error.message : '';
  if (status === 403 && retryAfter === undefined && !exhausted && !/secondary rate limit/i.test(message))
    return undefined;
  const waitMs = retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, now);
  if (waitMs !== undefined) return { waitMs };
  const reset = Number(headerOf(error, 'x-ratelimit-reset'));
  if (exhausted && Number.isFinite(reset) && reset > 0)
    return { waitMs: Math.max(0, reset * 1000 - now) + 1000 };
  return {};
}
