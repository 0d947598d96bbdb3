import type { Redis } from 'ioredis';
import type { PreviewQueue } from '../queue/preview-queue.ts';
import { type ApprovalStore, redisApprovalStore } from './approvals.ts';
import type { PolicyDeps } from './judge-pull-request.ts';
import { type ReadConfig, readRepoPolicy } from './repo-policy.ts';

/**
 * The policy's I/O, defaulted the same for webhooks and the service API so that both see the same
 * approvals: the repo config through the API, approvals in a Redis hash next to the queue's keys
 * (`bull:<queue>:approvals`), on the queue's connection.
 */
export function policyDeps(
  queue: PreviewQueue,
  overrides: { readConfig?: ReadConfig; approvals?: ApprovalStore; appId?: number } = {},
): PolicyDeps {
  return {
    ...(overrides.appId !== undefined ? { appId: overrides.appId } : {}),
    readConfig: overrides.readConfig ?? readRepoPolicy,
    approvals:
      overrides.approvals ??
      redisApprovalStore(
        async () => (await queue.queue.getBackend().client) as unknown as Redis,
        queue.queue.toKey('approvals'),
      ),
  };
}
