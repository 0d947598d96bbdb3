import { ProbotOctokit } from 'probot';
import { githubMetricsPlugin, type ServiceMetrics } from '../metrics.ts';

/**
 * The one Octokit of the service: Probot's (with `@octokit/plugin-retry` and
 * `@octokit/plugin-throttling`), with our bound on how long a request may wait in place. 5xx answers
 * are retried by the retry plugin with its growing backoff; rate limits (primary, and GitHub's
 * secondary limit) are waited out by the throttling plugin up to `maxRetryAfterMs`. Past that bound
 * the handler declines, the error reaches the caller with its `retry-after`, and the job is delayed
 * by the queue instead of holding a worker (`app/queue/classify-error.ts`).
 */

export interface GitHubRetryLimits {
  /** Attempts after the first, for 5xx answers and for rate limits each. */
  retries: number;
  /** The retry plugin waits (attempt + 1)² × this after a 5xx. */
  retryAfterBaseMs: number;
  /** The longest rate-limit wait done in place. */
  maxRetryAfterMs: number;
}

export const GITHUB_RETRY_LIMITS: GitHubRetryLimits = {
  retries: 3,
  retryAfterBaseMs: 1_000,
  maxRetryAfterMs: 60_000,
};

type RateLimitHandler = (
  retryAfterSeconds: number,
  options: { method?: string; url?: string },
  octokit: { log: { warn(message: string): void } },
  retryCount: number,
) => boolean;

/** Waits out a rate limit in place only while it is short and the attempts last. */
const rateLimitHandler =
  (kind: string, limits: GitHubRetryLimits): RateLimitHandler =>
  (retryAfterSeconds, options, octokit, retryCount) => {
    const waits = retryCount < limits.retries && retryAfterSeconds * 1000 <= limits.maxRetryAfterMs;
    octokit.log.warn(
      `GitHub's ${kind} was hit by ${options.method} ${options.url}: ${
        waits ? `retrying in ${retryAfterSeconds} s` : `not waiting ${retryAfterSeconds} s here`
      }`,
    );
    return waits;
  };

type OctokitClass = typeof ProbotOctokit;

/**
 * `Octokit` with the service's retry and throttle handlers. A function default, so they win over
 * the ones Probot sets when it builds an installation's Octokit (which never retry a secondary
 * limit); anything else Probot passes (its Redis-backed throttle connection) is kept.
 */
export function withGitHubRetries(
  Octokit: OctokitClass,
  limits: Partial<GitHubRetryLimits> = {},
): OctokitClass {
  const bounds = { ...GITHUB_RETRY_LIMITS, ...limits };
  return Octokit.defaults((instance: Record<string, unknown> = {}) => ({
    ...instance,
    retry: {
      retries: bounds.retries,
      retryAfterBaseValue: bounds.retryAfterBaseMs,
      // Rate limits are the throttling plugin's: a 429 it declined to wait for is not retried again.
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
      ...(instance.retry as object | undefined),
    },
    throttle: {
      ...(instance.throttle as object | undefined),
      onRateLimit: rateLimitHandler('rate limit', bounds),
      onSecondaryRateLimit: rateLimitHandler('secondary rate limit', bounds),
    },
  })) as OctokitClass;
}

/** The class the service gives Probot: the retry bounds, and the metrics plugin when metrics are kept. */
export function serviceOctokit(metrics?: ServiceMetrics): OctokitClass {
  return withGitHubRetries(metrics ? ProbotOctokit.plugin(githubMetricsPlugin(metrics)) : ProbotOctokit);
}
