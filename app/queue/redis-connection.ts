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

/**
 * Whether Redis answers: PING on a connected client. A client that is not connected fails at once
 * instead of queueing the PING, which (BullMQ's clients retry forever) would hold up its close.
 */
export async function pingRedis(client: Redis): Promise<void> {
  if (client.status !== 'ready') throw new Error(`not connected to Redis (${client.status})`);
  await client.ping();
}
