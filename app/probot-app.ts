import type { Redis } from 'ioredis';
import type { ApplicationFunction, Probot } from 'probot';
import { wakesPreview } from './checks/wake-on-check.ts';
import {
  type Command,
  helpText,
  inlineCode,
  keepWish,
  kubeconfigAnswer,
  type PermissionLevel,
  parseCommand,
  permissionAllows,
  requiredPermission,
} from './commands.ts';
import { TooManyDeliveriesError } from './errors/too-many-deliveries-error.ts';
import { permissionOf } from './github/permissions.ts';
import { createGitHubReporter, type GitHubClient } from './github/reporter.ts';
import { applyDesiredState } from './policy/apply-desired-state.ts';
import type { ApprovalStore } from './policy/approvals.ts';
import { judgePullRequest } from './policy/judge-pull-request.ts';
import { policyDeps } from './policy/policy-deps.ts';
import { configRef, factsOf, type PullLike } from './policy/pull-facts.ts';
import { DEFAULT_POLICY, type ReadConfig } from './policy/repo-policy.ts';
import type { PreviewQueue, QueuePlace } from './queue/preview-queue.ts';
import { installationLimiter } from './rate-limit/installation-limiter.ts';
import { KEEP_LABEL, type KeptPreviews, redisKeptPreviews } from './sweep/kept-previews.ts';
import { type DeliveryLog, redisDeliveryLog } from './webhook-deliveries.ts';

/**
 * The GitHub App's webhook handlers: `pull_request` and `/vcluster …` comments become desired
 * states, enqueued on the preview queue. Nothing here touches a cluster; the worker does that.
 */

export interface PreviewAppDeps {
  queue: PreviewQueue;
  /** Drafts, labels and fork policy of the repo at `ref`; default: `.github/vcluster-preview.yml` through the API. */
  readConfig?: ReadConfig;
  /** Default: a Redis hash next to the queue's keys (`bull:<queue>:approvals`), on the queue's connection. */
  approvals?: ApprovalStore;
  /** This GitHub App's id: its own sticky comment is told from a planted one by it. */
  appId?: number;
  /** Default: Redis keys next to the queue's (`bull:<queue>:deliveries:<id>`), on the queue's connection. */
  deliveries?: DeliveryLog;
  /** Deliveries per minute per installation (`RATE_LIMIT_WEBHOOKS_PER_MINUTE`); default 600, 0 for no limit. */
  webhooksPerMinute?: number;
  /** This service's public address (`PUBLIC_URL`), quoted in answers that show the Action's `service-url`. */
  serviceUrl?: string;
  /** `/vcluster keep`; default: a Redis hash next to the queue's keys (`bull:<queue>:kept`), which the sweep reads. */
  kept?: KeptPreviews;
}

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

const appIdOf = (deps: { appId?: number }) => (deps.appId !== undefined ? { appId: deps.appId } : {});

export function createPreviewApp(deps: PreviewAppDeps): ApplicationFunction {
  const { queue, serviceUrl } = deps;
  const policy = policyDeps(queue, deps);
  const { approvals } = policy;
  const deliveries =
    deps.deliveries ??
    redisDeliveryLog(
      async () => (await queue.queue.getBackend().client) as unknown as Redis,
      queue.queue.toKey('deliveries'),
    );
  const kept =
    deps.kept ??
    redisKeptPreviews(
      async () => (await queue.queue.getBackend().client) as unknown as Redis,
      queue.queue.toKey('kept'),
    );
  const webhooksPerMinute = deps.webhooksPerMinute ?? 600;
  const limiter = installationLimiter(
    async () => (await queue.queue.getBackend().client) as unknown as Redis,
    { keyPrefix: queue.queue.toKey('rate:webhooks'), perMinute: webhooksPerMinute },
  );
  /**
   * A delivery is handled once: a replayed `X-GitHub-Delivery` (an attacker resending a captured,
   * validly signed request, or a redelivery of one that worked) changes nothing. One that failed is
   * forgotten, so GitHub's redelivery gets its turn.
   */
  const once =
    <
      C extends {
        id: string;
        payload: object;
        log: { info(message: string): void; warn(message: string): void };
      },
    >(
      handle: (context: C) => Promise<void>,
    ) =>
    async (context: C) => {
      // Over its installation's limit a delivery is answered 429 and not marked handled: it is not
      // lost, GitHub's delivery log shows it for redelivery.
      const installation = String(installationOf(context.payload).installationId ?? 'none');
      const { retryAfterMs } = await limiter.take(installation);
      if (retryAfterMs !== undefined) {
        const error = new TooManyDeliveriesError(installation, webhooksPerMinute, retryAfterMs);
        context.log.warn(error.message);
        throw error;
      }
      if (!(await deliveries.first(context.id))) {
        context.log.info(`delivery ${context.id} was handled before; ignoring the replay`);
        return;
      }
      try {
        await handle(context);
      } catch (error) {
        await deliveries.forget(context.id).catch(() => {});
        throw error;
      }
    };

  /** `/vcluster keep [off]`: recorded for the sweep, no job (a keep must not replace a deploy waiting in the queue). */
  const keep = async (
    args: string[],
    at: { repo: string; pr: number; sender: string; octokit: GitHubClient; owner: string; name: string },
  ): Promise<string> => {
    const wish = keepWish(args);
    if (!wish) {
      return `@${at.sender}, ${inlineCode(`/vcluster keep ${args.join(' ')}`)} is not a keep I know: write \`/vcluster keep\` to keep this preview from sleeping and expiring, or \`/vcluster keep off\` to let it.`;
    }
    if (wish === 'off') {
      await kept.delete(at.repo, at.pr);
      return `@${at.sender}, this preview is no longer kept: it sleeps when idle (\`sleepAfter\`) and goes after its \`ttl\` again.`;
    }
    const { data: pull } = await at.octokit.rest.pulls.get({
      owner: at.owner,
      repo: at.name,
      pull_number: at.pr,
    });
    if (pull.state === 'closed')
      return `@${at.sender}, nothing to keep: the pull request is closed and its preview is gone.`;
    await kept.set(at.repo, at.pr, { by: at.sender, at: new Date().toISOString() });
    return `@${at.sender}, this preview is kept: it does not sleep or expire while the pull request is open. \`/vcluster keep off\` undoes it.`;
  };

  return (app: Probot) => {
    app.on(
      'pull_request',
      once(async (context) => {
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
        // When each head appeared, for `/vcluster approve` without a sha (the head when the comment was written).
        if (payload.action !== 'closed')
          await approvals.headSeen(repo, pr, facts.headSha, new Date().toISOString());
        const octokit = context.octokit as unknown as GitHubClient;
        const [owner, name] = [payload.repository.owner.login, payload.repository.name];
        const label = 'label' in payload && payload.label ? payload.label.name : undefined;
        // The keep label works as `/vcluster keep` does; a closed pull request forgets it (its preview goes).
        const keepLabelled =
          (payload.action === 'labeled' && label?.toLowerCase() === KEEP_LABEL) ||
          (['opened', 'reopened'].includes(payload.action) &&
            facts.labels.some((name) => name.toLowerCase() === KEEP_LABEL));
        if (keepLabelled) {
          await kept.set(repo, pr, { by: `label ${KEEP_LABEL}`, at: new Date().toISOString() });
          log.info('kept from sleep and ttl by its label');
        } else if (
          (payload.action === 'unlabeled' && label?.toLowerCase() === KEEP_LABEL) ||
          payload.action === 'closed'
        ) {
          await kept.delete(repo, pr);
        }
        const target = { octokit, owner, name, repo, pr, log };
        const desired = await judgePullRequest(policy, {
          ...target,
          facts,
          request: {
            type: 'pull_request',
            action: payload.action,
            merged: payload.pull_request.merged === true,
            ...(label !== undefined ? { label } : {}),
          },
          // Closing needs no config: whatever it says, the preview goes.
          ...(payload.action === 'closed' ? { policy: DEFAULT_POLICY } : {}),
        });
        if (payload.action === 'closed') await approvals.delete(repo, pr);
        await applyDesiredState(queue, {
          ...target,
          desired,
          sender: payload.sender?.login ?? 'unknown',
          ...installationOf(context.payload),
          deliveryId: context.id,
          ...appIdOf(policy),
        });
      }),
    );

    /**
     * A finished check of a pull request's head: a preview held back by `waitFor.checks` goes on
     * now, through the same judgement and queue as a push. `pull_requests` lists the open pull
     * requests whose head is that commit (GitHub leaves out those from forks).
     */
    const onCheckCompleted = async (context: {
      id: string;
      octokit: unknown;
      log: Parameters<typeof judgePullRequest>[1]['log'];
      payload: {
        repository: { full_name: string; name: string; owner: { login: string } };
        sender?: { login: string } | null;
        installation?: { id: number };
      };
      item: { name?: string; head_sha: string; pull_requests: { number: number; head: { sha: string } }[] };
      kind: 'check_run' | 'check_suite';
    }) => {
      const { payload, item, kind } = context;
      const repo = payload.repository.full_name;
      const [owner, name] = [payload.repository.owner.login, payload.repository.name];
      const octokit = context.octokit as GitHubClient;
      for (const ref of item.pull_requests) {
        if (ref.head.sha !== item.head_sha) continue;
        const pr = ref.number;
        const log = context.log.child({ repo, pr, deliveryId: context.id, event: `${kind}.completed` });
        const place = await queue.place(repo, pr);
        const { data: pull } = await octokit.rest.pulls.get({ owner, repo: name, pull_number: pr });
        const facts = factsOf(pull as PullLike);
        if (facts.state !== 'open' || facts.headSha !== item.head_sha) continue;
        const target = { octokit, owner, name, repo, pr, log };
        const config = await policy.readConfig(octokit, owner, name, configRef(facts), log);
        if (
          !wakesPreview({
            kind,
            ...(item.name ? { name: item.name } : {}),
            waitFor: config.waitFor,
            place: place.state,
          })
        ) {
          log.debug({ check: item.name, place: place.state }, 'the finished check holds back no preview');
          continue;
        }
        const desired = await judgePullRequest(policy, {
          ...target,
          facts,
          policy: config,
          request: { type: 'pull_request', action: 'synchronize', merged: false },
        });
        await applyDesiredState(queue, {
          ...target,
          desired,
          sender: payload.sender?.login ?? 'unknown',
          ...installationOf(payload),
          deliveryId: context.id,
          ...appIdOf(policy),
        });
      }
    };
    app.on(
      'check_run.completed',
      once(async (context) =>
        onCheckCompleted({
          id: context.id,
          octokit: context.octokit,
          log: context.log,
          payload: context.payload,
          item: context.payload.check_run,
          kind: 'check_run',
        }),
      ),
    );
    app.on(
      'check_suite.completed',
      once(async (context) =>
        onCheckCompleted({
          id: context.id,
          octokit: context.octokit,
          log: context.log,
          payload: context.payload,
          item: context.payload.check_suite,
          kind: 'check_suite',
        }),
      ),
    );

    app.on(
      'issue_comment.created',
      once(async (context) => {
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
        const reporter = createGitHubReporter({
          octokit,
          owner,
          repo: name,
          pullNumber: pr,
          log,
          ...appIdOf(policy),
        });
        const reply = (body: string) => reporter.reply(body);
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
              `@${sender}, I don't know ${inlineCode(`/vcluster ${command.text}`)}. Here is what I can do:\n\n${helpText()}`,
            );
            return;
          case 'status': {
            const place = await queue.place(repo, pr);
            await reply(describePlace(place));
            return;
          }
          case 'kubeconfig':
            await reply(kubeconfigAnswer(sender, serviceUrl));
            return;
          case 'keep':
            await reply(await keep(command.args, { repo, pr, sender, octokit, owner, name }));
            return;
          default:
            break;
        }

        const { data: pull } = await octokit.rest.pulls.get({ owner, repo: name, pull_number: pr });
        const target = { octokit, owner, name, repo, pr, log };
        const desired = await judgePullRequest(policy, {
          ...target,
          facts: factsOf(pull as PullLike),
          request: { type: 'command', command, commentedAt: payload.comment.created_at },
        });
        if (command.kind === 'approve' && desired.kind === 'up') {
          await approvals.set(repo, pr, desired.sha);
          log.info({ sha: desired.sha, approvedBy: sender }, 'fork commit approved');
        }
        if (desired.kind === 'skip') {
          await reply(`@${sender}, nothing to do: ${desired.reason}.`);
        }
        await applyDesiredState(queue, {
          ...target,
          desired,
          sender,
          ...installationOf(context.payload),
          deliveryId: context.id,
          ...appIdOf(policy),
        });
      }),
    );
  };
}

const installationOf = (payload: unknown): { installationId?: number } => {
  const id = (payload as { installation?: { id: number } }).installation?.id;
  return id ? { installationId: id } : {};
};

function refusal(command: Command, sender: string, repo: string, level: PermissionLevel): string {
  const what = command.kind === 'unknown' ? command.text : command.kind;
  return [
    `@${sender}, sorry: ${inlineCode(`/vcluster ${what}`)} can only be run by people with write, maintain or admin permission on ${repo}` +
      ` (yours is ${level === 'none' ? 'none' : level}).`,
    'Ask a maintainer to run it for you. Anyone may use `/vcluster status` and `/vcluster help`.',
  ].join(' ');
}
