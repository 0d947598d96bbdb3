import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';

/**
 * Webhook deliveries as GitHub sends them: the community's recorded payloads from
 * `@octokit/webhooks-examples`, retargeted at a test repository and pull request, serialized once and
 * signed over exactly those bytes with the webhook secret, so the app under test verifies them like
 * real ones. Only fields that identify the repository, pull request, commit and people change; the
 * rest keeps GitHub's shape (the tests check that).
 */

// The package's entry point is a JSON file; require reads it the same under Node and Vitest.
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];

export type PullRequestEvent = WebhookDefinition<'pull_request'>['examples'][number];
export type IssueCommentCreatedEvent = Extract<
  WebhookDefinition<'issue_comment'>['examples'][number],
  { action: 'created' }
>;
export type PullRequestAction =
  | 'opened'
  | 'synchronize'
  | 'closed'
  | 'reopened'
  | 'ready_for_review'
  | 'converted_to_draft'
  | 'labeled'
  | 'unlabeled';
type PullRequest = PullRequestEvent['pull_request'];
type User = PullRequest['user'];
type Repository = PullRequestEvent['repository'];

/** What identifies a pull request; everything else comes from the recorded example. */
export interface PullRequestSpec {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  /** Head branch; `changes` (the example's) when left out. */
  headRef?: string;
  baseRef?: string;
  baseSha?: string;
  /** Login of the fork's owner when the head branch lives in a fork; the base repo otherwise. */
  forkOwner?: string;
  /** The fork was deleted since: GitHub then shows `head.repo` as null. */
  forkDeleted?: boolean;
  /** Who opened the pull request; the repo owner when left out. */
  author?: string;
  title?: string;
  draft?: boolean;
  labels?: string[];
  state?: 'open' | 'closed';
  merged?: boolean;
  installationId?: number;
}

/** The recorded example's identifiers, replaced wherever they occur (URLs included). */
const EXAMPLE_FULL_NAME = 'Codertocat/Hello-World';
const EXAMPLE_LOGIN = 'Codertocat';
const EXAMPLE_HEAD_SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
const EXAMPLE_BASE_SHA = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';

/** A stable positive id from a name, so the same login or repo gets the same id in every payload. */
export const stableId = (name: string): number =>
  createHash('sha256').update(name.toLowerCase()).digest().readUInt32BE(0) % 1_000_000_000;

/** Replaces text inside every string of a JSON value; the replacements never contain quotes. */
const retarget = <T>(value: T, replacements: [RegExp, string][]): T => {
  let json = JSON.stringify(value);
  for (const [pattern, replacement] of replacements) json = json.replace(pattern, replacement);
  return JSON.parse(json) as T;
};

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A deep copy of the recorded delivery that the payloads here are made from. */
export const recordedExample = <T extends { action?: string; installation?: unknown }>(
  name: string,
  action: string,
): T => {
  const definition = definitions.find((candidate) => candidate.name === name);
  const candidates = (definition?.examples ?? []) as unknown as T[];
  // Prefer a delivery to an installation (what an App receives) over a plain repository hook.
  const chosen =
    candidates.find((candidate) => candidate.action === action && candidate.installation !== undefined) ??
    candidates.find((candidate) => candidate.action === action);
  if (!chosen) throw new Error(`@octokit/webhooks-examples has no ${name}.${action} example`);
  return structuredClone(chosen);
};

const exampleUser = (): User => recordedExample<PullRequestEvent>('pull_request', 'opened').sender as User;

/** A user object of GitHub's shape for `login` (`type: 'Bot'` for `…[bot]` logins). */
export function userObject(login: string): User {
  const user = retarget(exampleUser(), [[new RegExp(`\\b${EXAMPLE_LOGIN}\\b`, 'g'), login]]);
  const id = stableId(login);
  return {
    ...user,
    login,
    id,
    node_id: Buffer.from(`04:User${id}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
  };
}

/** The example repository retargeted at `owner/repo` (`fork: true` for a fork of it). */
export function repositoryObject(owner: string, repo: string, fork = false): Repository {
  const base = recordedExample<PullRequestEvent>('pull_request', 'opened').repository;
  const repository = retarget(base, [[new RegExp(escapeRegExp(EXAMPLE_FULL_NAME), 'g'), `${owner}/${repo}`]]);
  const id = stableId(`${owner}/${repo}`);
  return {
    ...repository,
    id,
    node_id: Buffer.from(`010:Repository${id}`).toString('base64'),
    name: repo,
    full_name: `${owner}/${repo}`,
    owner: userObject(owner),
    fork,
  };
}

const numberReplacements = (from: number, to: number): [RegExp, string][] => [
  [new RegExp(`/(pulls|pull|issues)/${from}(?![0-9])`, 'g'), `/$1/${to}`],
];

const labelObjects = (owner: string, repo: string, names: string[]): PullRequest['labels'] =>
  names.map((name) => ({
    id: stableId(`${owner}/${repo}#label:${name}`),
    node_id: Buffer.from(`08:Label${stableId(name)}`).toString('base64'),
    url: `https://api.github.com/repos/${owner}/${repo}/labels/${encodeURIComponent(name)}`,
    name,
    color: 'ededed',
    default: false,
    description: null,
  }));

/** GitHub writes times to the second: `2024-05-01T12:00:00Z`. */
export const githubTimestamp = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The `pull_request` object of a webhook payload, which is also what `GET /pulls/:n` answers. */
export function pullRequestObject(spec: PullRequestSpec): PullRequest {
  const recorded = recordedExample<PullRequestEvent>('pull_request', 'opened').pull_request;
  const fullName = `${spec.owner}/${spec.repo}`;
  const replacements: [RegExp, string][] = [
    [new RegExp(escapeRegExp(EXAMPLE_FULL_NAME), 'g'), fullName],
    ...numberReplacements(recorded.number, spec.number),
    [new RegExp(EXAMPLE_HEAD_SHA, 'g'), spec.headSha],
    ...(spec.baseSha ? [[new RegExp(EXAMPLE_BASE_SHA, 'g'), spec.baseSha] as [RegExp, string]] : []),
  ];
  const pr = retarget(recorded, replacements);
  const author = userObject(spec.author ?? spec.owner);
  const headOwner = spec.forkOwner ?? spec.owner;
  const headRef = spec.headRef ?? pr.head.ref;
  const baseRepo = repositoryObject(spec.owner, spec.repo);
  const headRepo = spec.forkDeleted
    ? null
    : spec.forkOwner
      ? repositoryObject(spec.forkOwner, spec.repo, true)
      : baseRepo;
  const closed = spec.state === 'closed' || spec.merged === true;
  const closedAt = closed ? githubTimestamp() : null;
  return {
    ...pr,
    id: stableId(`${fullName}#${spec.number}`),
    number: spec.number,
    title: spec.title ?? pr.title,
    user: author,
    state: closed ? 'closed' : 'open',
    closed_at: closedAt,
    merged: spec.merged === true,
    merged_at: spec.merged ? closedAt : null,
    merged_by: spec.merged ? userObject(spec.owner) : null,
    merge_commit_sha: spec.merged ? createHash('sha1').update(`merge:${spec.headSha}`).digest('hex') : null,
    draft: spec.draft === true,
    labels: labelObjects(spec.owner, spec.repo, spec.labels ?? []),
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    head: {
      ...pr.head,
      label: `${headOwner}:${headRef}`,
      ref: headRef,
      sha: spec.headSha,
      user: userObject(headOwner),
      repo: headRepo,
    },
    base: {
      ...pr.base,
      label: `${spec.owner}:${spec.baseRef ?? pr.base.ref}`,
      ref: spec.baseRef ?? pr.base.ref,
      user: userObject(spec.owner),
      repo: baseRepo,
    },
    // A fork's author is not a member of the base repository.
    author_association: spec.forkOwner ? 'CONTRIBUTOR' : pr.author_association,
  } as PullRequest;
}

const installationOf = (spec: PullRequestSpec) => {
  const id = spec.installationId ?? 1;
  return { id, node_id: Buffer.from(`023:IntegrationInstallation${id}`).toString('base64') };
};

export interface PullRequestEventOptions {
  /** Who caused the event; the pull request's author when left out. */
  sender?: string;
  /** For `synchronize`: the head commit before the push. */
  before?: string;
  /** For `labeled` / `unlabeled`: the label's name. */
  label?: string;
}

/** A `pull_request` delivery for `action`; for `closed`, `spec.merged` says whether it was merged. */
export function pullRequestEvent(
  action: PullRequestAction,
  spec: PullRequestSpec,
  options: PullRequestEventOptions = {},
): PullRequestEvent {
  const recorded = recordedExample<PullRequestEvent>('pull_request', action);
  const state = action === 'closed' ? 'closed' : (spec.state ?? 'open');
  const payload: Record<string, unknown> = {
    ...recorded,
    number: spec.number,
    pull_request: pullRequestObject({ ...spec, state, draft: spec.draft ?? action === 'converted_to_draft' }),
    repository: repositoryObject(spec.owner, spec.repo),
    installation: installationOf(spec),
    sender: userObject(options.sender ?? spec.author ?? spec.owner),
  };
  // A user-owned repository: the organization block of some examples would contradict the owner.
  delete payload.organization;
  if (action === 'synchronize') {
    payload.before = options.before ?? EXAMPLE_BASE_SHA;
    payload.after = spec.headSha;
  }
  if ((action === 'labeled' || action === 'unlabeled') && options.label) {
    payload.label = labelObjects(spec.owner, spec.repo, [options.label])[0];
  }
  return payload as unknown as PullRequestEvent;
}

export interface IssueCommentOptions {
  body: string;
  /** Who wrote the comment. */
  sender: string;
  commentId?: number;
  /** What GitHub shows of the sender's relation to the repo; `OWNER` for the owner, `NONE` otherwise. */
  authorAssociation?: string;
}

let nextCommentId = 2_000_000_000;

/** An `issue_comment.created` delivery for a comment on the pull request (`issue.pull_request` set). */
export function issueCommentEvent(
  spec: PullRequestSpec,
  options: IssueCommentOptions,
): IssueCommentCreatedEvent {
  const recorded = recordedExample<IssueCommentCreatedEvent>('issue_comment', 'created');
  const fullName = `${spec.owner}/${spec.repo}`;
  const commentId = options.commentId ?? nextCommentId++;
  const retargeted = retarget(recorded, [
    [new RegExp(escapeRegExp(EXAMPLE_FULL_NAME), 'g'), fullName],
    [new RegExp(String(recorded.comment.id), 'g'), String(commentId)],
    ...numberReplacements(recorded.issue.number, spec.number),
  ]);
  const pr = pullRequestObject(spec);
  const sender = userObject(options.sender);
  const now = githubTimestamp();
  const payload: Record<string, unknown> = {
    ...retargeted,
    issue: {
      ...retargeted.issue,
      id: pr.id,
      number: spec.number,
      title: pr.title,
      body: pr.body,
      user: pr.user,
      labels: pr.labels,
      milestone: pr.milestone,
      author_association: pr.author_association,
      state: pr.state,
      draft: pr.draft,
      assignee: null,
      assignees: [],
      // A pull request is an issue with this block; GitHub links to /pull/ rather than /issues/.
      html_url: pr.html_url,
      pull_request: {
        url: pr.url,
        html_url: pr.html_url,
        diff_url: pr.diff_url,
        patch_url: pr.patch_url,
        merged_at: pr.merged_at,
      },
    },
    comment: {
      ...retargeted.comment,
      id: commentId,
      node_id: Buffer.from(`012:IssueComment${commentId}`).toString('base64'),
      html_url: `${pr.html_url}#issuecomment-${commentId}`,
      user: sender,
      body: options.body,
      author_association:
        options.authorAssociation ??
        (options.sender.toLowerCase() === spec.owner.toLowerCase() ? 'OWNER' : 'NONE'),
      created_at: now,
      updated_at: now,
    },
    repository: repositoryObject(spec.owner, spec.repo),
    installation: installationOf(spec),
    sender,
  };
  delete payload.organization;
  return payload as unknown as IssueCommentCreatedEvent;
}

/** `sha256=<hex HMAC>` over the exact bytes sent, as in `x-hub-signature-256`. */
export function signPayload(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface PostWebhookOptions {
  deliveryId?: string;
  /** Sent instead of the real signature, to test that a forged delivery is refused. */
  signature?: string;
  /** The App's id, as in `x-github-hook-installation-target-id`. */
  appId?: number;
}

export interface WebhookResponse {
  status: number;
  body: string;
  deliveryId: string;
}

/** POSTs one delivery with the headers GitHub sends, the body serialized once and signed as sent. */
export async function postWebhook(
  url: string,
  event: string,
  payload: unknown,
  secret: string,
  options: PostWebhookOptions = {},
): Promise<WebhookResponse> {
  const body = JSON.stringify(payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/7c6ab53',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '1',
      'x-github-hook-installation-target-type': 'integration',
      'x-github-hook-installation-target-id': String(options.appId ?? 1),
      // GitHub still sends the SHA-1 signature beside the SHA-256 one.
      'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
      'x-hub-signature-256': options.signature ?? signPayload(body, secret),
    },
    body,
  });
  return { status: response.status, body: await response.text(), deliveryId };
}

export type CheckRunCompletedEvent = Extract<
  WebhookDefinition<'check_run'>['examples'][number],
  { action: 'completed' }
>;
export type CheckSuiteCompletedEvent = Extract<
  WebhookDefinition<'check_suite'>['examples'][number],
  { action: 'completed' }
>;
type CheckRun = CheckRunCompletedEvent['check_run'];

/** One check run of a commit, as CI (a GitHub Actions job) reports it. */
export interface CheckRunSpec {
  owner: string;
  repo: string;
  id: number;
  /** The job's name, as the Checks tab shows it. */
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  /** Set once `completed`: success, failure, neutral, cancelled, skipped, timed_out, action_required. */
  conclusion?: string | null;
  detailsUrl?: string;
  /** Open pull requests whose head is this commit (GitHub leaves out those from forks). */
  pullRequests?: PullRequestSpec[];
}

/** The recorded check examples name their repository (and the commit's author) in more ways. */
const checkReplacements = (spec: Pick<CheckRunSpec, 'owner' | 'repo' | 'headSha'>): [RegExp, string][] => [
  [new RegExp(escapeRegExp(EXAMPLE_FULL_NAME), 'g'), `${spec.owner}/${spec.repo}`],
  [new RegExp(EXAMPLE_HEAD_SHA, 'g'), spec.headSha],
  [/Hello-World/g, spec.repo],
  [new RegExp(`\\b${EXAMPLE_LOGIN}\\b`, 'g'), spec.owner],
];

/** A `pull_requests` item of a check run or suite: GitHub's short form of a pull request. */
const pullRequestRef = (spec: PullRequestSpec) => {
  const pull = pullRequestObject(spec);
  const repoRef = (repo: { id: number; url: string; name: string }) => ({
    id: repo.id,
    url: repo.url,
    name: repo.name,
  });
  return {
    url: pull.url,
    id: pull.id,
    number: pull.number,
    head: { ref: pull.head.ref, sha: pull.head.sha, repo: repoRef(pull.head.repo ?? pull.base.repo) },
    base: { ref: pull.base.ref, sha: pull.base.sha, repo: repoRef(pull.base.repo) },
  };
};

/** The `check_run` object of a webhook payload, which is also what the check-runs route lists. */
export function checkRunObject(spec: CheckRunSpec): CheckRun {
  const recorded = recordedExample<CheckRunCompletedEvent>('check_run', 'completed').check_run;
  const fullName = `${spec.owner}/${spec.repo}`;
  const run = retarget(recorded, [
    ...checkReplacements(spec),
    [new RegExp(String(recorded.id), 'g'), String(spec.id)],
  ]);
  const pullRequests = (spec.pullRequests ?? []).map(pullRequestRef);
  const completed = spec.status === 'completed';
  return {
    ...run,
    id: spec.id,
    node_id: Buffer.from(`08:CheckRun${spec.id}`).toString('base64'),
    name: spec.name,
    head_sha: spec.headSha,
    status: spec.status,
    conclusion: completed ? (spec.conclusion ?? 'success') : null,
    completed_at: completed ? githubTimestamp() : null,
    details_url: spec.detailsUrl ?? `https://github.com/${fullName}/actions/runs/${spec.id}`,
    check_suite: run.check_suite ? { ...run.check_suite, pull_requests: pullRequests } : run.check_suite,
    pull_requests: pullRequests,
  } as CheckRun;
}

/** A `check_run.completed` delivery of a finished check run (`spec.status` completed). */
export function checkRunCompletedEvent(spec: CheckRunSpec, installationId = 1): CheckRunCompletedEvent {
  const recorded = recordedExample<CheckRunCompletedEvent>('check_run', 'completed');
  const payload: Record<string, unknown> = {
    ...recorded,
    check_run: checkRunObject({ ...spec, status: 'completed' }),
    repository: repositoryObject(spec.owner, spec.repo),
    installation: installationOf({ ...spec, number: 0, installationId }),
    sender: userObject('github-actions[bot]'),
  };
  delete payload.organization;
  return payload as unknown as CheckRunCompletedEvent;
}

/** A `check_suite.completed` delivery for a commit's suite (a workflow run). */
export function checkSuiteCompletedEvent(
  spec: Pick<CheckRunSpec, 'owner' | 'repo' | 'headSha' | 'conclusion' | 'pullRequests'>,
  installationId = 1,
): CheckSuiteCompletedEvent {
  const recorded = recordedExample<CheckSuiteCompletedEvent>('check_suite', 'completed');
  const suite = retarget(recorded.check_suite, checkReplacements(spec));
  const payload: Record<string, unknown> = {
    ...recorded,
    check_suite: {
      ...suite,
      head_sha: spec.headSha,
      status: 'completed',
      conclusion: spec.conclusion ?? 'success',
      pull_requests: (spec.pullRequests ?? []).map(pullRequestRef),
    },
    repository: repositoryObject(spec.owner, spec.repo),
    installation: installationOf({ ...spec, number: 0, installationId }),
    sender: userObject('github-actions[bot]'),
  };
  delete payload.organization;
  return payload as unknown as CheckSuiteCompletedEvent;
}
