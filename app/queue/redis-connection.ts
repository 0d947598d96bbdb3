import { Redis } from 'ioredis';

export interface RedisHandle {
  client: Redis;
  /** Closes the client if it was opened here; a client passed in belongs to the caller. */
  release(): Promise<void>;
}

/**
 * An ioredis client for BullMQ from a `redis://` URL or an existing client. BullMQ needs
 * `maxRetriesPerRequest: null` (its blocking commands must wait, not fail after 20 retries).
 */
export function redisConnection(connection: string | Redis): RedisHandle {
  if (typeof connection !== 'string') return { client: connection, release: async () => {} };
  const client = new Redis(connection, { maxRetriesPerRequest: null });
  return {
    client,
    release: async () => {
      if (client.status === 'end') return;
      await client.quit().catch(() => client.disconnect());
    },
  };
}
