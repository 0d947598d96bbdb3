import type { Redis } from 'ioredis';

/** Which webhook deliveries (`X-GitHub-Delivery`) were handled, so that a replayed one is handled once. */
export interface DeliveryLog {
  /** True the first time `id` is seen (and marks it); false for a replay. */
  first(id: string): Promise<boolean>;
  /** Unmarks `id` after its handling failed, so that GitHub's redelivery is handled. */
  forget(id: string): Promise<void>;
}

/** Seen deliveries as Redis keys `<prefix>:<id>`, kept a week (GitHub redelivers for 3 days). */
export function redisDeliveryLog(
  client: () => Promise<Redis>,
  prefix: string,
  ttlSeconds = 7 * 86_400,
): DeliveryLog {
  return {
    async first(id) {
      return (await (await client()).set(`${prefix}:${id}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
    },
    async forget(id) {
      await (await client()).del(`${prefix}:${id}`);
    },
  };
}
