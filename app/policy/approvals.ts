import type { Redis } from 'ioredis';

/** Which commit of a fork's pull request a maintainer approved; approval holds for that commit only. */
export interface ApprovalStore {
  get(repo: string, pr: number): Promise<string | undefined>;
  set(repo: string, pr: number, sha: string): Promise<void>;
  delete(repo: string, pr: number): Promise<void>;
}

const approvalField = (repo: string, pr: number) => `${repo.toLowerCase()}#${pr}`;

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
      await (await client()).hdel(key, approvalField(repo, pr));
    },
  };
}
