import { createHash } from 'node:crypto';
import type { Octokit } from '@octokit/rest';
import type { Logger } from 'pino';
import { isStickyComment, renderStickyComment, type StickyCommentState } from '../sticky-comment.ts';
import { httpStatusOf, rateLimitOf } from './http-error.ts';

/**
 * The one place that writes to GitHub for a pull request: its sticky comment, reactions to commands,
 * and its Deployments. Everything here is safe to repeat, because a job that fails half-way is run
 * again from the start.
 *
 * Retries are the Octokit's (`./octokit.ts`: Probot's retry and throttling plugins with the service's
 * bounds); what reaches this module has failed for good or asks for a longer wait than is done in
 * place, and becomes a `GitHubReportError` that says what to do.
 */

/**
 * What the reporter needs of an Octokit: Probot's `context.octokit` and `@octokit/rest` both fit. Typed
 * from `@octokit/rest` because importing `probot`'s types widens `process.env` for the whole program.
 */
export type GitHubClient = Pick<Octokit, 'request' | 'paginate' | 'rest'>;

export type ReactionContent = '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes';

export type DeploymentResult =
  | { state: 'success'; environmentUrl: string; logUrl?: string }
  | { state: 'failure'; logUrl?: string; description?: string };

export interface GitHubReporterOptions {
  octokit: GitHubClient;
  owner: string;
  repo: string;
  pullNumber: number;
  /** A child logger, usually already carrying the job's repo and pull request. */
  log: Logger;
  /**
   * This GitHub App's id: a sticky comment is ours only when the App wrote it (a Bot comment
   * `performed_via_github_app` this App). Without it, any Bot's comment with the marker counts; a
   * person's never does.
   */
  appId?: number;
}

export interface GitHubReporter {
  /** Creates the pull request's sticky comment once, then edits it in place; answers its id. */
  upsertStickyComment(state: StickyCommentState): Promise<{ id: number; created: boolean }>;
  addReaction(commentId: number, content?: ReactionContent): Promise<void>;
  /** A new comment on the pull request: the answer to a comment command. */
  reply(body: string): Promise<void>;
  /** The deployment of `sha` to `environment` (reused when it exists), now `in_progress`; answers its id. */
  startDeployment(sha: string, environment?: string): Promise<number>;
  finishDeployment(deploymentId: number, result: DeploymentResult): Promise<void>;
  /** Marks every deployment of `environment` inactive; answers how many changed. */
  deactivateDeployments(environment?: string): Promise<number>;
}

/** A write to GitHub that did not succeed, with what a person needs to act on it. */
export class GitHubReportError extends Error {
  override readonly name = 'GitHubReportError';
  constructor(
    message: string,
    /** GitHub's HTTP status, when it answered. */
    readonly status: number | undefined,
    /** Whether trying again later can help (5xx, rate limits). */
    readonly transient: boolean,
    /** How long GitHub asked to wait, for a rate limit longer than this module waits. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** GitHub asks for at least a minute when a secondary rate limit comes without `retry-after`. */
const SECONDARY_LIMIT_FALLBACK_MS = 60_000;

// Per pull request within this process: a queue so two updates never race into two comments, and the
// sticky comment's id and a digest of its last body, so an update costs one PATCH (or nothing) instead
// of a listing. The memory is bounded: a forgotten pull request just costs one listing again.
const queues = new Map<string, Promise<unknown>>();
const knownComments = new Map<string, { id: number; digest: string }>();
const KNOWN_COMMENTS_MAX = 10_000;

const digestOf = (body: string) => createHash('sha256').update(body).digest('base64');

const remember = (key: string, id: number, body: string) => {
  knownComments.delete(key);
  knownComments.set(key, { id, digest: digestOf(body) });
  if (knownComments.size > KNOWN_COMMENTS_MAX) {
    const oldest = knownComments.keys().next().value;
    if (oldest !== undefined) knownComments.delete(oldest);
  }
};

const serialized = <T>(key: string, work: () => Promise<T>): Promise<T> => {
  const previous = queues.get(key) ?? Promise.resolve();
  const result = previous.then(work, work);
  const tail = result.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return result;
};

interface HttpFailure {
  status: number;
  message: string;
}

const httpFailure = (error: unknown): HttpFailure | undefined => {
  const status = httpStatusOf(error);
  return status === undefined
    ? undefined
    : { status, message: (error as { message?: string }).message ?? '' };
};

/** How long GitHub asks us to wait, when the failure is a rate limit (a minute when it names no time). */
const rateLimitWait = (error: unknown): number | undefined => {
  const limit = rateLimitOf(error, Date.now());
  return limit === undefined ? undefined : (limit.waitMs ?? SECONDARY_LIMIT_FALLBACK_MS);
};

export function createGitHubReporter(options: GitHubReporterOptions): GitHubReporter {
  const { octokit, owner, repo, pullNumber, log } = options;
  const where = `${owner}/${repo}#${pullNumber}`;
  const baseUrl = String(octokit.request.endpoint.DEFAULTS.baseUrl);
  // GitHub matches owner and repo names without regard to case.
  const prKey = `${baseUrl} ${owner.toLowerCase()}/${repo.toLowerCase()}#${pullNumber}`;
  const defaultEnvironment = `preview/pr-${pullNumber}`;

  /** Runs `work`; a failure GitHub answered becomes a `GitHubReportError`; `what` names it in errors. */
  const reported = async <T>(what: string, permission: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      const failure = httpFailure(error);
      if (!failure) throw error;
      const limitWait = rateLimitWait(error);
      const describe = `GitHub answered ${failure.status} (${failure.message.split('\n', 1)[0]})`;
      const hint =
        limitWait !== undefined
          ? `GitHub's rate limit for this installation is reached; try again in ${Math.ceil(limitWait / 1000)} s.`
          : failure.status >= 500
            ? 'GitHub kept failing after its retries; try again later.'
            : failure.status === 403 || failure.status === 401
              ? `Check that the GitHub App is installed on ${owner}/${repo} with ${permission} permission.`
              : failure.status === 404
                ? `Check that ${where} exists and the GitHub App can see it.`
                : 'This is a bug in vcluster-preview: GitHub refused the request it sent.';
      throw new GitHubReportError(
        `Could not ${what} on ${where}: ${describe}. ${hint}`,
        failure.status,
        limitWait !== undefined || failure.status >= 500,
        limitWait,
        { cause: error },
      );
    }
  };

  const writtenByUs = (comment: {
    user?: { type?: string } | null;
    performed_via_github_app?: { id?: number } | null;
  }) =>
    comment.user?.type === 'Bot' &&
    (options.appId === undefined || comment.performed_via_github_app?.id === options.appId);

  const listStickyComments = async () => {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: pullNumber,
      per_page: 100,
    });
    // GitHub's ids grow with time, so the lowest id is the oldest comment. The marker alone proves
    // nothing (anyone can write it in a comment): only the App's own comments are edited.
    return comments
      .filter((comment) => isStickyComment(comment.body ?? '') && writtenByUs(comment))
      .map((comment) => ({ id: comment.id, body: comment.body ?? '' }))
      .sort((a, b) => a.id - b.id);
  };

  const updateComment = (id: number, body: string) =>
    octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body });

  const deleteComment = async (id: number) => {
    try {
      await octokit.rest.issues.deleteComment({ owner, repo, comment_id: id });
    } catch (error) {
      // Another process settling the same race may have deleted it first.
      if (httpStatusOf(error) !== 404) throw error;
    }
  };

  /** Keeps the oldest of our comments (with `body`) and deletes the others, which a race created. */
  const settle = async (ours: { id: number; body: string }[], body: string) => {
    const [kept, ...extra] = ours;
    if (!kept) throw new Error('settle needs at least one comment');
    if (kept.body !== body) await updateComment(kept.id, body);
    for (const duplicate of extra) {
      log.warn({ commentId: duplicate.id, kept: kept.id }, 'deleting a duplicate sticky comment');
      await deleteComment(duplicate.id);
    }
    remember(prKey, kept.id, body);
    return kept.id;
  };

  const upsert = async (body: string): Promise<{ id: number; created: boolean }> => {
    const known = knownComments.get(prKey);
    if (known) {
      if (known.digest === digestOf(body)) return { id: known.id, created: false };
      try {
        await updateComment(known.id, body);
        remember(prKey, known.id, body);
        return { id: known.id, created: false };
      } catch (error) {
        // Someone deleted it (or another process settled a race against it): find or create again.
        if (httpStatusOf(error) !== 404) throw error;
        knownComments.delete(prKey);
      }
    }
    const ours = await listStickyComments();
    if (ours.length > 0) return { id: await settle(ours, body), created: false };
    const { data } = await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: pullNumber,
      body,
    });
    // Another process may have created one at the same moment; both sides then agree on the oldest.
    const after = await listStickyComments();
    const id = await settle(after.length > 0 ? after : [{ id: data.id, body }], body);
    log.info({ commentId: id }, 'created the sticky comment');
    return { id, created: id === data.id };
  };

  const createStatus = (
    deploymentId: number,
    state: 'in_progress' | 'success' | 'failure' | 'inactive',
    extra: { environment_url?: string; log_url?: string; description?: string } = {},
  ) =>
    octokit.rest.repos.createDeploymentStatus({
      owner,
      repo,
      deployment_id: deploymentId,
      state,
      ...extra,
    });

  return {
    upsertStickyComment: (state) => {
      const body = renderStickyComment(state);
      return serialized(prKey, () =>
        reported('update the sticky comment', '"Pull requests: write"', () => upsert(body)),
      );
    },

    async addReaction(commentId, content = 'eyes') {
      await reported(`react ${content} to comment ${commentId}`, '"Pull requests: write"', () =>
        octokit.rest.reactions.createForIssueComment({
          owner,
          repo,
          comment_id: commentId,
          content,
        }),
      );
    },

    async reply(body) {
      await reported('answer a command', '"Pull requests: write"', () =>
        octokit.rest.issues.createComment({
          owner,
          repo,
          issue_number: pullNumber,
          body,
        }),
      );
    },

    async startDeployment(sha, environment = defaultEnvironment) {
      const id = await reported(
        `create a deployment of ${sha.slice(0, 7)}`,
        '"Deployments: write"',
        async () => {
          // One deployment per commit and environment: a retry, a redeploy or a restarted job reuses it.
          const { data: existing } = await octokit.rest.repos.listDeployments({
            owner,
            repo,
            sha,
            environment,
            per_page: 1,
          });
          const found = existing[0];
          if (found) return found.id;
          const { data } = await octokit.rest.repos.createDeployment({
            owner,
            repo,
            ref: sha,
            environment,
            description: `Preview of ${where}`,
            // Transient: GitHub shows it destroyed once inactive; no status checks or merges for a preview.
            transient_environment: true,
            production_environment: false,
            required_contexts: [],
            auto_merge: false,
          });
          // 202 means GitHub merged the base in instead of deploying, which auto_merge: false rules out.
          if (!('id' in data)) throw new Error(`GitHub did not create the deployment: ${data.message ?? ''}`);
          log.info({ deploymentId: data.id, environment, sha }, 'created a deployment');
          return data.id;
        },
      );
      await reported(`mark deployment ${id} in progress`, '"Deployments: write"', () =>
        createStatus(id, 'in_progress', { description: 'Deploying the preview' }),
      );
      return id;
    },

    async finishDeployment(deploymentId, result) {
      const extra =
        result.state === 'success'
          ? {
              environment_url: result.environmentUrl,
              ...(result.logUrl ? { log_url: result.logUrl } : {}),
              description: 'Preview ready',
            }
          : {
              ...(result.logUrl ? { log_url: result.logUrl } : {}),
              description: (result.description ?? 'Preview failed').slice(0, 140),
            };
      await reported(`mark deployment ${deploymentId} ${result.state}`, '"Deployments: write"', () =>
        createStatus(deploymentId, result.state, extra),
      );
      log.info({ deploymentId, state: result.state }, 'finished a deployment');
    },

    async deactivateDeployments(environment = defaultEnvironment) {
      const deployments = await reported(
        `list the deployments of ${environment}`,
        '"Deployments: read"',
        () =>
          octokit.paginate(octokit.rest.repos.listDeployments, {
            owner,
            repo,
            environment,
            per_page: 100,
          }),
      );
      let changed = 0;
      for (const deployment of deployments) {
        const latest = await reported(`read deployment ${deployment.id}`, '"Deployments: read"', async () => {
          const { data } = await octokit.rest.repos.listDeploymentStatuses({
            owner,
            repo,
            deployment_id: deployment.id,
            per_page: 100,
          });
          return data.reduce<(typeof data)[number] | undefined>(
            (newest, status) => (newest === undefined || status.id > newest.id ? status : newest),
            undefined,
          );
        });
        // Writes count against the stricter limits; one already inactive needs none.
        if (latest?.state === 'inactive') continue;
        await reported(`mark deployment ${deployment.id} inactive`, '"Deployments: write"', () =>
          createStatus(deployment.id, 'inactive', { description: 'Preview deleted' }),
        );
        changed++;
      }
      log.info({ environment, deactivated: changed, total: deployments.length }, 'deactivated deployments');
      return changed;
    },
  };
}
