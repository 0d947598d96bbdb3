import type { ApprovalStore } from '../policy/approvals.ts';

/**
 * When a commit was first seen as a pull request's head, from the store the webhook handler notes
 * heads in (so the time of the push, when the webhook came first); a head it never noted (an API
 * request) is noted now. Epoch ms.
 */
export function headFirstSeenIn(
  store: Pick<ApprovalStore, 'headSeen' | 'headSeenAt'>,
  now: () => number = Date.now,
): (repo: string, pr: number, sha: string) => Promise<number> {
  return async (repo, pr, sha) => {
    await store.headSeen(repo, pr, sha, new Date(now()).toISOString());
    const at = await store.headSeenAt(repo, pr, sha);
    const parsed = at === undefined ? Number.NaN : Date.parse(at);
    return Number.isNaN(parsed) ? now() : parsed;
  };
}
