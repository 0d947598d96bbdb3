import type { Redis } from 'ioredis';

/**
 * Which commit of a fork's pull request a maintainer approved (approval holds for that commit only),
 * and when the service first saw each pull request's head, so that `/vcluster approve` approves the
 * head as it was when the maintainer commented.
 */
export interface ApprovalStore {
  get(repo: string, pr: number): Promise<string | undefined>;
  set(repo: string, pr: number, sha: string): Promise<void>;
  delete(repo: string, pr: number): Promise<void>;
  /** Notes `sha` as the head from `at` (ISO 8601), unless it is the head already noted. */
  headSeen(repo: string, pr: number, sha: string, at: string): Promise<void>;
  /** When `sha` was first seen as the head, if it is the head last noted. */
  headSeenAt(repo: string, pr: number, sha: string): Promise<string | undefined>;
}

const approvalField = (repo: string, pr: number) => `${repo.toLowerCase()}#${pr}`;
const headField = (repo: string, pr: number) => `head:${approvalField(repo, pr)}`;
const parseHead = (value: string | null): { sha: string; at: string } | undefined => {
  try {
    const parsed = value ? (JSON.parse(value) as { sha?: unknown; at?: unknown }) : undefined;
    return typeof parsed?.sha === 'string' && typeof parsed.at === 'string'
      ? { sha: parsed.sha, at: parsed.at }
      : undefined;
  } catch {
    return undefined;
  }
};

/** Approvals in one Redis hash, field `owner/repo#12` → approved sha. */
export function redisApprovalStore(client: () => Promise<Redis>, key: string): ApprovalStore {
  return {
    async get(repo, pr) {
      return (await (await client()).hget(key, approvalField(repo, pr))) ?? undefined;
    },
    async set(repo, pr, sha) {
      await (await client()).hset(key, approvalField(repo, pr), sha);
    },
    async delete(repo, pr) {
      await (await client()).hdel(key, approvalField(repo, pr), headField(repo, pr));
    },
    async headSeen(repo, pr, sha, at) {
      const redis = await client();
      const noted = parseHead(await redis.hget(key, headField(repo, pr)));
      if (noted?.sha !== sha) await redis.hset(key, headField(repo, pr), JSON.stringify({ sha, at }));
    },
    async headSeenAt(repo, pr, sha) {
      const noted = parseHead(await (await client()).hget(key, headField(repo, pr)));
      return noted?.sha === sha ? noted.at : undefined;
    },
  };
}
