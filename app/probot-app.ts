import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ApplicationFunction, Context, Probot } from 'probot';
import { parseRepoConfig, REPO_CONFIG_PATH } from '../preview/repo-config.ts';
import {
  type Command,
  helpText,
  type PermissionLevel,
  parseCommand,
  permissionAllows,
  requiredPermission,
} from './commands.ts';
import { type DesiredState, desiredStateFor, type PreviewPolicy } from './desired-state.ts';
import { createGitHubReporter, type GitHubClient } from './github-reporter.ts';
import type { PreviewQueue, QueuePlace } from './queue/preview-queue.ts';

/**
 * The GitHub App's webhook handlers: `pull_request` and `/vcluster …` comments become desired
 * states, enqueued on the preview queue. Nothing here touches a cluster; the worker does that.
 */

/** The policy when the repo has no config file (or one the worker will report as broken). */
export const DEFAULT_POLICY: PreviewPolicy = { drafts: false, labels: [], forks: 'approve' };

export type ReadConfig = (
  octokit: GitHubClient,
  owner: string,
  repo: string,
  ref: string,
  log: Logger,
) => Promise<PreviewPolicy>;

/** Which commit of a fork's pull request a maintainer approved; approval holds for that commit only. */
export interface ApprovalStore {
  get(repo: string, pr: number): Promise<string | undefined>;
  set(repo: string, pr: number, sha: string): Promise<void>;
  delete(repo: string, pr: number): Promise<void>;
}

export interface PreviewAppDeps {
  queue: PreviewQueue;
  /** Drafts, labels and fork policy of the repo at `ref`; default: `.github/vcluster-preview.yml` through the API. */
  readConfig?: ReadConfig;
  /** Default: a Redis hash next to the queue's keys (`bull:<queue>:approvals`), on the queue's connection. */
  approvals?: ApprovalStore;
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

const statusOf = (error: unknown) =>
  typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number'
    ? (error as { status: number }).status
    : undefined;

/** Reads and parses the repo config at `ref`; a missing or broken file gives the default policy. */
export const readRepoPolicy: ReadConfig = async (octokit, owner, repo, ref, log) => {
  let text: string;
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path: REPO_CONFIG_PATH, ref });
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) {
      log.warn({ ref }, `${REPO_CONFIG_PATH} is not a file; using the default policy`);
      return DEFAULT_POLICY;
    }
    text = Buffer.from(data.content, 'base64').toString('utf8');
  } catch (error) {
    if (statusOf(error) === 404) return DEFAULT_POLICY;
    throw error;
  }
  try {
    const config = parseRepoConfig(text);
    return { drafts: config.drafts, labels: config.labels, forks: config.forks };
  } catch (error) {
    // The worker reads the file again and reports the error on the pull request.
    log.warn({ ref, err: error }, `${REPO_CONFIG_PATH} is not valid; using the default policy`);
    return DEFAULT_POLICY;
  }
};

const PR_ACTIONS = new Set([
  'opened',
  'reopened',
  'synchronize',
  'ready_for_review',
  'labeled',
  'unlabeled',
  'converted_to_draft',
  'closed',
]);

const KNOWN_LEVELS = new Set<PermissionLevel>(['admin', 'maintain', 'write', 'triage', 'read', 'none']);

interface PullFacts {
  draft: boolean;
  labels: string[];
  headSha: string;
  isFork: boolean;
  state: 'open' | 'closed';
  baseRef: string;
}

interface PullLike {
  draft?: boolean | undefined;
  state: string;
  labels: { name: string }[];
  head: { sha: string; repo: { full_name: string } | null };
  base: { ref: string; repo: { full_name: string } };
}

const factsOf = (pull: PullLike): PullFacts => ({
  draft: pull.draft === true,
  labels: pull.labels.map((label) => label.name),
  headSha: pull.head.sha,
  // A deleted fork leaves `head.repo` null: still not the base repository.
  isFork: pull.head.repo?.full_name.toLowerCase() !== pull.base.repo.full_name.toLowerCase(),
  state: pull.state === 'closed' ? 'closed' : 'open',
  baseRef: pull.base.ref,
});

/** Config is read at the head commit, but a fork's from the base branch: never trust the fork's file. */
const configRef = (facts: PullFacts) => (facts.isFork ? facts.baseRef : facts.headSha);

const describePlace = (place: QueuePlace): string => {
  switch (place.state) {
    case 'none':
      return 'Nothing is queued or running for this pull request right now; the comment above shows where its preview stands.';
    case 'waiting':
      return `A job for this pull request is waiting in the queue at place ${place.position} of ${place.waiting}.`;
    case 'active':
      return `A job for this pull request is running now${place.next ? ', and a newer request runs right after it' : ''}.`;
    case 'delayed':
      return `A job for this pull request is waiting to be retried at ${new Date(place.until).toISOString()}.`;
  }
};

export function createPreviewApp(deps: PreviewAppDeps): ApplicationFunction {
  const { queue } = deps;
  const readConfig = deps.readConfig ?? readRepoPolicy;
  const approvals =
    deps.approvals ??
    redisApprovalStore(
      async () => (await queue.queue.getBackend().client) as unknown as Redis,
      queue.queue.toKey('approvals'),
    );

  return (app: Probot) => {
    app.on('pull_request', async (context) => {
      const { payload } = context;
      const repo = payload.repository.full_name;
      const pr = payload.pull_request.number;
      const log = context.log.child({
        repo,
        pr,
        deliveryId: context.id,
        event: `pull_request.${payload.action}`,
      });
      if (!PR_ACTIONS.has(payload.action)) {
        log.debug('action does not concern previews');
        return;
      }
      const facts = factsOf(payload.pull_request as PullLike);
      const octokit = context.octokit as unknown as GitHubClient;
      const [owner, name] = [payload.repository.owner.login, payload.repository.name];
      const config =
        payload.action === 'closed'
          ? DEFAULT_POLICY
          : await readConfig(octokit, owner, name, configRef(facts), log);
      const approvedSha = facts.isFork ? await approvals.get(repo, pr) : undefined;
      const label = 'label' in payload && payload.label ? payload.label.name : undefined;
      const desired = desiredStateFor(
        {
          type: 'pull_request',
          action: payload.action,
          merged: payload.pull_request.merged === true,
          ...(label !== undefined ? { label } : {}),
          ...facts,
        },
        { config, ...(approvedSha ? { approvedSha } : {}) },
      );
      if (payload.action === 'closed') await approvals.delete(repo, pr);
      await act(context, log, { owner, name, repo, pr, desired, sender: payload.sender?.login ?? 'unknown' });
    });

    app.on('issue_comment.created', async (context) => {
      const { payload } = context;
      const repo = payload.repository.full_name;
      const pr = payload.issue.number;
      const log = context.log.child({ repo, pr, deliveryId: context.id, event: 'issue_comment.created' });
      if (!payload.issue.pull_request) return;
      if (payload.comment.user?.type === 'Bot') return;
      const command = parseCommand(payload.comment.body ?? '');
      if (!command) return;
      const [owner, name] = [payload.repository.owner.login, payload.repository.name];
      const sender = payload.comment.user?.login ?? payload.sender?.login ?? 'unknown';
      const octokit = context.octokit as unknown as GitHubClient;
      const reporter = createGitHubReporter({ octokit, owner, repo: name, pullNumber: pr, log });
      const reply = async (body: string) => {
        await octokit.rest.issues.createComment({ owner, repo: name, issue_number: pr, body });
      };
      log.info({ command: command.kind, sender }, 'command received');
      await reporter.addReaction(payload.comment.id, 'eyes');

      const needed = requiredPermission(command);
      if (needed !== 'none') {
        const level = await permissionOf(octokit, owner, name, sender);
        if (!permissionAllows(level, needed)) {
          log.info({ command: command.kind, sender, level }, 'command refused: not enough permission');
          await reply(refusal(command, sender, repo, level));
          return;
        }
      }

      switch (command.kind) {
        case 'help':
          await reply(`Here is what \`/vcluster\` can do on this pull request:\n\n${helpText()}`);
          return;
        case 'unknown':
          await reply(
            `@${sender}, I don't know \`/vcluster ${command.text}\`. Here is what I can do:\n\n${helpText()}`,
          );
          return;
        case 'status': {
          const place = await queue.place(repo, pr);
          await reply(describePlace(place));
          return;
        }
        default:
          break;
      }

      const { data: pull } = await octokit.rest.pulls.get({ owner, repo: name, pull_number: pr });
      const facts = factsOf(pull as PullLike);
      const config = await readConfig(octokit, owner, name, configRef(facts), log);
      const approvedSha = facts.isFork ? await approvals.get(repo, pr) : undefined;
      const desired = desiredStateFor(
        { type: 'command', command, ...facts },
        { config, ...(approvedSha ? { approvedSha } : {}) },
      );
      if (command.kind === 'approve' && desired.kind === 'up') {
        await approvals.set(repo, pr, desired.sha);
        log.info({ sha: desired.sha, approvedBy: sender }, 'fork commit approved');
      }
      if (desired.kind === 'skip') {
        await reply(`@${sender}, nothing to do: ${desired.reason}.`);
      }
      await act(context, log, { owner, name, repo, pr, desired, sender });
    });
  };

  async function act(
    context: Context,
    log: Logger,
    target: { owner: string; name: string; repo: string; pr: number; desired: DesiredState; sender: string },
  ): Promise<void> {
    const { owner, name, repo, pr, desired, sender } = target;
    if (desired.kind === 'skip') {
      log.info({ reason: desired.reason }, 'no preview change');
      return;
    }
    if (desired.kind === 'await-approval') {
      log.info({ sha: desired.sha }, 'fork pull request waits for a maintainer to approve');
      const reporter = createGitHubReporter({
        octokit: context.octokit as unknown as GitHubClient,
        owner,
        repo: name,
        pullNumber: pr,
        log,
      });
      await reporter.upsertStickyComment({
        state: 'waiting-approval',
        sha: desired.sha,
        updatedAt: new Date().toISOString(),
      });
      return;
    }
    const installationId = (context.payload as { installation?: { id: number } }).installation?.id;
    const result = await queue.enqueue({
      repo,
      pr,
      desired,
      ...(installationId ? { installationId } : {}),
      requestedBy: sender,
      deliveryId: context.id,
    });
    log.info({ desired, jobId: result.jobId, outcome: result.outcome }, 'preview job enqueued');
  }
}

async function permissionOf(
  octokit: GitHubClient,
  owner: string,
  repo: string,
  username: string,
): Promise<PermissionLevel> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
    // `role_name` knows maintain and triage; custom roles fall back to the classic `permission`.
    const role = (data as { role_name?: string }).role_name as PermissionLevel | undefined;
    if (role && KNOWN_LEVELS.has(role)) return role;
    return KNOWN_LEVELS.has(data.permission as PermissionLevel)
      ? (data.permission as PermissionLevel)
      : 'none';
  } catch (error) {
    // Not a collaborator at all (GitHub answers 404 for some of those): no permission.
    if (statusOf(error) === 404) return 'none';
    throw error;
  }
}

function refusal(command: Command, sender: string, repo: string, level: PermissionLevel): string {
  const what = command.kind === 'unknown' ? command.text : command.kind;
  return [
    `@${sender}, sorry: \`/vcluster ${what}\` can only be run by people with write, maintain or admin permission on ${repo}` +
      ` (yours is ${level === 'none' ? 'none' : level}).`,
    'Ask a maintainer to run it for you. Anyone may use `/vcluster status` and `/vcluster help`.',
  ].join(' ');
}
