import type { Redis } from 'ioredis';

/**
 * Previews exempt from sleep and ttl (`/vcluster keep`, or the `preview:keep` label), until
 * `/vcluster keep off`, the label's removal or the pull request's close. Kept in Redis beside the
 * queue, not on the host namespace: the webhook process never touches a cluster, a keep must not
 * replace a deploy waiting in the queue (the newest desired state wins there), and it must outlive
 * `/vcluster reset`, which deletes the namespace.
 */
export interface KeptPreviews {
  /** Who asked and when (ISO 8601), if the preview is kept. */
  get(repo: string, pr: number): Promise<KeptBy | undefined>;
  set(repo: string, pr: number, by: KeptBy): Promise<void>;
  delete(repo: string, pr: number): Promise<void>;
}

export interface KeptBy {
  /** A GitHub login, or `label preview:keep`. */
  by: string;
  at: string;
}

/** The label that keeps a pull request's preview, like `/vcluster keep`. */
export const KEEP_LABEL = 'preview:keep';

const field = (repo: string, pr: number) => `${repo.toLowerCase()}#${pr}`;

const parse = (value: string | null): KeptBy | undefined => {
  try {
    const parsed = value ? (JSON.parse(value) as Partial<KeptBy>) : undefined;
    return typeof parsed?.by === 'string' && typeof parsed.at === 'string'
      ? { by: parsed.by, at: parsed.at }
      : undefined;
  } catch {
    return undefined;
  }
};

/** One Redis hash, field `owner/repo#12` → `{"by","at"}`. */
export function redisKeptPreviews(client: () => Promise<Redis>, key: string): KeptPreviews {
  return {
    async get(repo, pr) {
      return parse(await (await client()).hget(key, field(repo, pr)));
    },
    async set(repo, pr, by) {
      await (await client()).hset(key, field(repo, pr), JSON.stringify(by));
    },
    async delete(repo, pr) {
      await (await client()).hdel(key, field(repo, pr));
    },
  };
}
