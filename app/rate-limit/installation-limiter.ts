import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * How many requests one GitHub App installation may send in a minute, counted in Redis so that every
 * web process shares the count (rate-limiter-flexible's atomic counter). One installation's flood
 * (a bot commenting, a runaway workflow) then waits its turn instead of stalling the others'.
 */
export interface InstallationLimiter {
  /** Counts one request of `installation`; `retryAfterMs` when it is over its limit. */
  take(installation: string): Promise<{ retryAfterMs?: number }>;
}

export interface InstallationLimiterOptions {
  /** The Redis keys' prefix, e.g. `bull:<queue>:rate:webhooks`. */
  keyPrefix: string;
  /** Requests per minute per installation; 0 for no limit. */
  perMinute: number;
}

export function installationLimiter(
  client: () => Promise<Redis>,
  options: InstallationLimiterOptions,
): InstallationLimiter {
  if (options.perMinute <= 0) return { take: async () => ({}) };
  let limiter: Promise<RateLimiterRedis> | undefined;
  const ready = () => {
    limiter ??= client().then(
      (storeClient) =>
        new RateLimiterRedis({
          storeClient,
          keyPrefix: options.keyPrefix,
          points: options.perMinute,
          duration: 60,
        }),
    );
    return limiter;
  };
  return {
    async take(installation) {
      try {
        await (await ready()).consume(installation);
        return {};
      } catch (refused) {
        // The library rejects with its result when the limit is reached, and with an Error when Redis fails.
        if (refused instanceof RateLimiterRes) return { retryAfterMs: Math.max(1000, refused.msBeforeNext) };
        throw refused;
      }
    },
  };
}
