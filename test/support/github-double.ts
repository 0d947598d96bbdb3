import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CheckRunSpec,
  checkRunObject,
  githubTimestamp,
  type PullRequestSpec,
  pullRequestObject,
  repositoryObject,
  stableId,
  userObject,
} from './webhooks.ts';

/**
 * GitHub is the one outside service the tests cannot run, so this answers the few REST routes the
 * app uses over real HTTP, the way GitHub does: JSON bodies of GitHub's shape, its status codes and
 * error messages, `Link` pagination, case-insensitive owner and repo names. State lives in memory and
 * every call is recorded, so a test asserts on what the app asked, not only on what it got back.
 * `/api/v3` in front of a path is accepted too: that is where Probot looks on a GitHub Enterprise
 * Server (`GHE_HOST`), which is how the app is pointed here.
 */

export type RoleName = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

export interface RecordedCall {
  method: string;
  /** Path without the query string and without a `/api/v3` prefix. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, `undefined` when none was sent. */
  body: unknown;
  /** The status the double answered. */
  status: number;
}

/** The contents route of a repository's `.github/vcluster-preview.yml` (its slash raw or encoded). */
export const REPO_CONFIG_ROUTE = /\/contents\/\.github(\/|%2F)vcluster-preview\.yml$/i;

/** The next `times` calls matching `method` and `path` answer `status` instead of being served. */
export interface FailureSpec {
  method?: string;
  /** The exact path (without query) or a pattern tested against it. */
  path: string | RegExp;
  times?: number;
  status: number;
  headers?: Record<string, string>;
  /** GitHub's usual body for the status when left out. */
  body?: unknown;
}

type User = ReturnType<typeof userObject>;

export interface IssueComment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: User;
  created_at: string;
  updated_at: string;
  author_association: string;
  /** Set on what an App's installation token wrote, as GitHub does. */
  performed_via_github_app?: { id: number; slug: string; name: string };
}

export interface Reaction {
  id: number;
  node_id: string;
  user: User;
  content: string;
  created_at: string;
}

export interface DeploymentStatus {
  id: number;
  node_id: string;
  url: string;
  state: string;
  creator: User;
  description: string;
  environment: string;
  target_url: string;
  log_url: string;
  environment_url: string;
  created_at: string;
  updated_at: string;
  deployment_url: string;
  repository_url: string;
}

export interface Deployment {
  id: number;
  node_id: string;
  url: string;
  sha: string;
  ref: string;
  task: string;
  payload: unknown;
  original_environment: string;
  environment: string;
  description: string | null;
  creator: User;
  created_at: string;
  updated_at: string;
  statuses_url: string;
  repository_url: string;
  transient_environment: boolean;
  production_environment: boolean;
}

interface RepoState {
  owner: string;
  name: string;
  installationId: number;
  defaultBranch: string;
  /** ref → path → content. */
  files: Map<string, Map<string, Buffer>>;
  /** lower-case login → role. */
  roles: Map<string, RoleName>;
  pulls: Map<number, PullRequestSpec>;
  comments: Map<number, IssueComment & { issueNumber: number }>;
  reactions: Map<number, Reaction[]>;
  deployments: Map<number, Deployment>;
  statuses: Map<number, DeploymentStatus[]>;
  /** id → check run; a re-run is a new run of the same name. */
  checkRuns: Map<number, Omit<CheckRunSpec, 'pullRequests'>>;
}

export interface StartOptions {
  /** Address to listen on (default 127.0.0.1), e.g. where pods of a real node reach this machine. */
  listenHost?: string;
  /** The App's slug: comments and deployments it creates are by `<slug>[bot]`. */
  appSlug?: string;
  appId?: number;
}

export interface GitHubDouble {
  /** `http://127.0.0.1:<port>`: Octokit's `baseUrl`, or Probot's `GHE_HOST` (with `GHE_PROTOCOL=http`). */
  url: string;
  /** `127.0.0.1:<port>`, for `GHE_HOST`. */
  host: string;
  calls: RecordedCall[];
  /** Calls whose method and path match, in order. */
  callsTo(method: string, path: string | RegExp): RecordedCall[];
  addRepo(owner: string, repo: string, options?: { installationId?: number; defaultBranch?: string }): void;
  setFile(owner: string, repo: string, ref: string, path: string, content: string | Buffer): void;
  /** `none` removes the collaborator. */
  setPermission(owner: string, repo: string, login: string, role: RoleName | 'none'): void;
  addPullRequest(spec: PullRequestSpec): ReturnType<typeof pullRequestObject>;
  /** Changes a stored pull request (a push, a close, a merge). */
  updatePullRequest(
    owner: string,
    repo: string,
    number: number,
    change: Partial<Omit<PullRequestSpec, 'owner' | 'repo' | 'number'>>,
  ): ReturnType<typeof pullRequestObject>;
  /** A comment written by someone (a person, or an earlier run of the App). */
  addComment(owner: string, repo: string, number: number, body: string, login: string): IssueComment;
  comments(owner: string, repo: string, number: number): IssueComment[];
  reactions(owner: string, repo: string, commentId: number): Reaction[];
  /** Deployments, oldest first, each with its statuses oldest first. */
  deployments(owner: string, repo: string): (Deployment & { statuses: DeploymentStatus[] })[];
  failNext(spec: FailureSpec): void;
  /**
   * A new check run of a commit (a CI job started, or re-run): answered by the check-runs route, and
   * returned with the open pull requests of that head, ready for `checkRunCompletedEvent`.
   */
  addCheckRun(
    owner: string,
    repo: string,
    spec: Pick<CheckRunSpec, 'name' | 'headSha' | 'status' | 'conclusion' | 'detailsUrl'>,
  ): CheckRunSpec;
  /** Changes a check run (it finished); answers it like addCheckRun. */
  updateCheckRun(
    owner: string,
    repo: string,
    id: number,
    change: Partial<Pick<CheckRunSpec, 'status' | 'conclusion' | 'detailsUrl'>>,
  ): CheckRunSpec;
  /**
   * `<url>/_services/token`: where a GitHub Enterprise Server issues GitHub Actions OIDC tokens (its
   * discovery document and JWKS are served below it), so the service's `OIDC_ISSUER` with `GHE_HOST`.
   */
  oidcIssuer: string;
  /** A GitHub Actions OIDC token with the claims a workflow run gets, signed with the double's key. */
  issueActionsToken(spec: ActionsTokenSpec): string;
  /**
   * The runner's side of `core.getIDToken()`: `ACTIONS_ID_TOKEN_REQUEST_URL` and
   * `ACTIONS_ID_TOKEN_REQUEST_TOKEN` of a job of `spec`; the URL answers `{ value: <token> }` for
   * the `audience` asked, like the Actions runtime does.
   */
  actionsRuntime(spec: Omit<ActionsTokenSpec, 'audience'>): { requestUrl: string; requestToken: string };
  stop(): Promise<void>;
}

/** Who a GitHub Actions OIDC token is for; the other claims get a workflow run's usual values. */
export interface ActionsTokenSpec {
  /** `owner/name` of the repository the workflow runs in. */
  repository: string;
  /** Default `vcluster-preview` (the Action's default audience). */
  audience?: string | string[];
  sha?: string;
  ref?: string;
  /** Default `pull_request`. */
  eventName?: string;
  /** Default the repository's owner. */
  actor?: string;
  /** Seconds until it expires (default 300); negative for a token that has expired. */
  expiresIn?: number;
  /** Signed with a key the issuer never published (same key id): a forged token. */
  forged?: boolean;
  /** Claims set or overridden as given (`iss`, …). */
  claims?: Record<string, unknown>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentation = 'https://docs.github.com/rest',
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const notFound = (documentation?: string) => new HttpError(404, 'Not Found', documentation);

const validationFailed = (resource: string, field: string, message?: string) =>
  new HttpError(422, 'Validation Failed', 'https://docs.github.com/rest', {
    errors: [{ resource, field, code: 'invalid', ...(message ? { message } : {}) }],
  });

const defaultFailureBody = (status: number, headers: Record<string, string>): unknown => {
  if (status === 429 || (status === 403 && headers['retry-after'] !== undefined)) {
    return {
      message:
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
      documentation_url:
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
    };
  }
  if (status === 403 && headers['x-ratelimit-remaining'] === '0') {
    return {
      message: 'API rate limit exceeded for installation.',
      documentation_url:
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit',
    };
  }
  if (status === 403) return { message: 'Resource not accessible by integration' };
  if (status >= 500) return { message: 'Server Error' };
  return { message: 'Error' };
};

/** Git's blob id, which GitHub reports as a file's `sha`. */
const blobSha = (content: Buffer) =>
  createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');

/** GitHub wraps base64 content at 60 characters. */
const wrappedBase64 = (content: Buffer) => (content.toString('base64').match(/.{1,60}/g) ?? ['']).join('\n');

const REACTIONS = new Set(['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes']);
const STATUS_STATES = new Set([
  'error',
  'failure',
  'inactive',
  'in_progress',
  'queued',
  'pending',
  'success',
]);
/** `permission` folds the finer role names into the classic levels. */
const PERMISSION_OF_ROLE: Record<RoleName, string> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
};

type Handler = (
  request: { params: Record<string, string>; query: URLSearchParams; body: unknown; authorization?: string },
  respond: Responder,
) => void;
type Responder = (status: number, body?: unknown, headers?: Record<string, string>) => void;

export async function startGitHubDouble(options: StartOptions = {}): Promise<GitHubDouble> {
  const appSlug = options.appSlug ?? 'vcluster-preview';
  const appId = options.appId ?? 1;
  const bot = userObject(`${appSlug}[bot]`);
  const repos = new Map<string, RepoState>();
  const failures: (FailureSpec & { remaining: number })[] = [];
  const calls: RecordedCall[] = [];
  // GitHub's ids grow over time; the reporter relies on that to tell the oldest comment.
  let nextId = 1_000;
  const newId = () => nextId++;

  const key = (owner: string, repo: string) => `${owner}/${repo}`.toLowerCase();
  const repoOrThrow = (owner: string, repo: string): RepoState => {
    const state = repos.get(key(owner, repo));
    if (!state) throw notFound();
    return state;
  };
  const apiRepoUrl = (state: RepoState) => `https://api.github.com/repos/${state.owner}/${state.name}`;
  const pullOrThrow = (state: RepoState, number: number): PullRequestSpec => {
    const pull = state.pulls.get(number);
    if (!pull) throw notFound('https://docs.github.com/rest/pulls/pulls#get-a-pull-request');
    return pull;
  };
  const commentOrThrow = (state: RepoState, id: number) => {
    const comment = state.comments.get(id);
    if (!comment) throw notFound('https://docs.github.com/rest/issues/comments#get-an-issue-comment');
    return comment;
  };
  const publicComment = ({ issueNumber: _, ...comment }: IssueComment & { issueNumber: number }) => comment;

  const createComment = (
    state: RepoState,
    number: number,
    body: string,
    user: User,
    association: string,
  ): IssueComment & { issueNumber: number } => {
    const id = newId();
    const now = githubTimestamp();
    const pr = pullRequestObject(pullOrThrow(state, number));
    const comment = {
      id,
      node_id: Buffer.from(`012:IssueComment${id}`).toString('base64'),
      url: `${apiRepoUrl(state)}/issues/comments/${id}`,
      html_url: `${pr.html_url}#issuecomment-${id}`,
      issue_url: `${apiRepoUrl(state)}/issues/${number}`,
      body,
      user,
      created_at: now,
      updated_at: now,
      author_association: association,
      issueNumber: number,
    };
    state.comments.set(id, comment);
    return comment;
  };

  const latestStatus = (state: RepoState, deploymentId: number) => state.statuses.get(deploymentId)?.at(-1);

  /** GitHub's pages: `per_page` (30, at most 100) and `page`, with a `Link` header to the others. */
  const paginate = (
    items: unknown[],
    query: URLSearchParams,
    selfUrl: URL,
    respond: Responder,
    status = 200,
    /** How a route wraps its page (the check-runs route: `{ total_count, check_runs }`). */
    wrap: (page: unknown[]) => unknown = (page) => page,
  ): void => {
    const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (rel: string, target: number) => {
      const url = new URL(selfUrl);
      url.searchParams.set('per_page', String(perPage));
      url.searchParams.set('page', String(target));
      return `<${url.href}>; rel="${rel}"`;
    };
    const links = [
      ...(page > 1 ? [link('prev', page - 1), link('first', 1)] : []),
      ...(page < last ? [link('next', page + 1), link('last', last)] : []),
    ];
    respond(
      status,
      wrap(items.slice((page - 1) * perPage, page * perPage)),
      links.length > 0 ? { link: links.join(', ') } : {},
    );
  };

  // Routes are filled in below; each pattern is matched against the path without `/api/v3`.
  const routes: { method: string; pattern: RegExp; handler: (selfUrl: URL) => Handler }[] = [];
  const route = (method: string, path: string, handler: (selfUrl: URL) => Handler) => {
    const pattern = new RegExp(
      `^${path.replace(/:(\w+)\*/g, '(?<$1>.*)').replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`,
    );
    routes.push({ method, pattern, handler });
  };

  route('POST', '/app/installations/:id/access_tokens', () => (request, respond) => {
    // Any JWT is accepted: the App's private key is not the double's business, only that one was sent.
    if (!/^bearer\s+[\w-]+\.[\w-]+\.[\w-]*$/i.test(request.authorization ?? '')) {
      throw new HttpError(401, 'A JSON web token could not be decoded');
    }
    const id = Number(request.params.id);
    if (![...repos.values()].some((state) => state.installationId === id)) {
      throw notFound('https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app');
    }
    respond(201, {
      token: `ghs_${randomBytes(18).toString('hex')}`,
      expires_at: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: {
        checks: 'read',
        contents: 'read',
        deployments: 'write',
        issues: 'write',
        pull_requests: 'write',
      },
      repository_selection: 'all',
    });
  });

  // GitHub Actions OIDC: a GHES publishes its token issuer under /_services/token.
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forgingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = createHash('sha256')
    .update(signingKey.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 40);
  let baseUrl = '';
  const issuerOf = (origin: string) => `${origin}/_services/token`;
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signJwt = (payload: Record<string, unknown>, key: KeyObject) => {
    const input = `${base64url({ typ: 'JWT', alg: 'RS256', x5t: keyId, kid: keyId })}.${base64url(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  };
  let runNumber = 1;
  const actionsToken = (spec: ActionsTokenSpec, issuer: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const [owner = ''] = spec.repository.split('/');
    const run = runNumber++;
    const eventName = spec.eventName ?? 'pull_request';
    const ref = spec.ref ?? 'refs/pull/1/merge';
    const payload = {
      jti: randomUUID(),
      sub: `repo:${spec.repository}:${eventName === 'pull_request' ? 'pull_request' : `ref:${ref}`}`,
      aud: spec.audience ?? 'vcluster-preview',
      ref,
      sha: spec.sha ?? createHash('sha1').update(`run:${run}`).digest('hex'),
      repository: spec.repository,
      repository_owner: owner,
      repository_owner_id: String(stableId(owner)),
      run_id: String(9_000_000_000 + run),
      run_number: String(run),
      run_attempt: '1',
      repository_visibility: 'private',
      repository_id: String(stableId(spec.repository)),
      actor_id: String(stableId(spec.actor ?? owner)),
      actor: spec.actor ?? owner,
      workflow: 'Preview',
      head_ref: 'changes',
      base_ref: 'main',
      event_name: eventName,
      ref_type: 'branch',
      workflow_ref: `${spec.repository}/.github/workflows/preview.yml@${ref}`,
      job_workflow_ref: `${spec.repository}/.github/workflows/preview.yml@${ref}`,
      runner_environment: 'github-hosted',
      iss: issuer,
      nbf: now - 5,
      iat: now - 5,
      exp: now + (spec.expiresIn ?? 300),
      ...spec.claims,
    };
    return signJwt(payload, spec.forged ? forgingKey.privateKey : signingKey.privateKey);
  };
  /** Request token → the job it stands for, as the runner hands them to a step. */
  const runtimeJobs = new Map<string, Omit<ActionsTokenSpec, 'audience'>>();

  route('GET', '/_services/token/.well-known/openid-configuration', (selfUrl) => (_request, respond) => {
    const issuer = issuerOf(selfUrl.origin);
    respond(200, {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks`,
      subject_types_supported: ['public', 'pairwise'],
      response_types_supported: ['id_token'],
      claims_supported: [
        'sub',
        'aud',
        'exp',
        'iat',
        'iss',
        'jti',
        'nbf',
        'ref',
        'sha',
        'repository',
        'repository_owner',
        'run_id',
        'actor',
        'event_name',
      ],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid'],
    });
  });

  route('GET', '/_services/token/.well-known/jwks', () => (_request, respond) => {
    const jwk = signingKey.publicKey.export({ format: 'jwk' });
    respond(200, { keys: [{ ...jwk, kid: keyId, x5t: keyId, alg: 'RS256', use: 'sig' }] });
  });

  route('GET', '/_apis/actions/idtoken', (selfUrl) => (request, respond) => {
    const token = /^bearer\s+(\S+)$/i.exec(request.authorization ?? '')?.[1];
    const job = token ? runtimeJobs.get(token) : undefined;
    if (!job) throw new HttpError(401, 'Bad credentials');
    const audience = request.query.get('audience') ?? `https://github.com/${job.repository.split('/')[0]}`;
    respond(200, { count: 1, value: actionsToken({ ...job, audience }, issuerOf(selfUrl.origin)) });
  });

  route('GET', '/repos/:owner/:repo/installation', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    respond(200, {
      id: state.installationId,
      account: userObject(state.owner),
      repository_selection: 'all',
      access_tokens_url: `https://api.github.com/app/installations/${state.installationId}/access_tokens`,
      repositories_url: 'https://api.github.com/installation/repositories',
      html_url: `https://github.com/settings/installations/${state.installationId}`,
      app_id: appId,
      app_slug: appSlug,
      target_id: userObject(state.owner).id,
      target_type: 'User',
      permissions: {
        checks: 'read',
        contents: 'read',
        deployments: 'write',
        issues: 'write',
        pull_requests: 'write',
      },
      events: ['check_run', 'check_suite', 'issue_comment', 'pull_request'],
      created_at: githubTimestamp(),
      updated_at: githubTimestamp(),
      single_file_name: null,
      suspended_at: null,
      suspended_by: null,
    });
  });

  route('GET', '/repos/:owner/:repo', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    respond(200, { ...repositoryObject(state.owner, state.name), default_branch: state.defaultBranch });
  });

  route('GET', '/repos/:owner/:repo/contents:path*', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const path = decodeURIComponent(request.params.path ?? '').replace(/^\/+|\/+$/g, '');
    const ref = request.query.get('ref') ?? state.defaultBranch;
    const files = state.files.get(ref);
    if (!files) {
      throw new HttpError(
        404,
        `No commit found for the ref ${ref}`,
        'https://docs.github.com/rest/repos/contents#get-repository-content',
      );
    }
    const base = apiRepoUrl(state);
    const entry = (entryPath: string, type: 'file' | 'dir', content?: Buffer) => ({
      type,
      name: entryPath.split('/').at(-1),
      path: entryPath,
      sha: content ? blobSha(content) : createHash('sha1').update(`tree:${ref}:${entryPath}`).digest('hex'),
      size: content?.length ?? 0,
      url: `${base}/contents/${entryPath}?ref=${ref}`,
      html_url: `https://github.com/${state.owner}/${state.name}/${type === 'file' ? 'blob' : 'tree'}/${ref}/${entryPath}`,
      git_url: `${base}/git/${type === 'file' ? 'blobs' : 'trees'}/${content ? blobSha(content) : ''}`,
      download_url:
        type === 'file'
          ? `https://raw.githubusercontent.com/${state.owner}/${state.name}/${ref}/${entryPath}`
          : null,
      _links: { self: `${base}/contents/${entryPath}?ref=${ref}` },
    });
    const content = files.get(path);
    if (content !== undefined) {
      respond(200, { ...entry(path, 'file', content), encoding: 'base64', content: wrappedBase64(content) });
      return;
    }
    // A directory is any prefix of stored paths; GitHub lists its direct children, sorted by name.
    const prefix = path === '' ? '' : `${path}/`;
    const children = new Map<string, ReturnType<typeof entry>>();
    for (const [filePath, fileContent] of files) {
      if (!filePath.startsWith(prefix)) continue;
      const [name, ...rest] = filePath.slice(prefix.length).split('/');
      const childPath = `${prefix}${name}`;
      children.set(
        childPath,
        rest.length > 0 ? entry(childPath, 'dir') : entry(childPath, 'file', fileContent),
      );
    }
    if (children.size === 0)
      throw notFound('https://docs.github.com/rest/repos/contents#get-repository-content');
    respond(
      200,
      [...children.values()].sort((a, b) => String(a.name).localeCompare(String(b.name))),
    );
  });

  route('GET', '/repos/:owner/:repo/collaborators/:username/permission', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const login = request.params.username!;
    const role = state.roles.get(login.toLowerCase());
    // The repository's owner is its admin without being listed as a collaborator.
    const effective: RoleName | undefined =
      login.toLowerCase() === state.owner.toLowerCase() ? 'admin' : role;
    respond(200, {
      permission: effective ? PERMISSION_OF_ROLE[effective] : 'none',
      role_name: effective ?? 'none',
      user: {
        ...userObject(login),
        permissions: {
          admin: effective === 'admin',
          maintain: effective === 'admin' || effective === 'maintain',
          push: effective === 'admin' || effective === 'maintain' || effective === 'write',
          triage: effective !== undefined && effective !== 'read',
          pull: effective !== undefined,
        },
        role_name: effective ?? 'none',
      },
    });
  });

  route('GET', '/repos/:owner/:repo/pulls/:number', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    respond(200, pullRequestObject(pullOrThrow(state, Number(request.params.number))));
  });

  route('GET', '/repos/:owner/:repo/issues/:number/comments', (selfUrl) => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const number = Number(request.params.number);
    pullOrThrow(state, number);
    const comments = [...state.comments.values()]
      .filter((comment) => comment.issueNumber === number)
      .sort((a, b) => a.id - b.id)
      .map(publicComment);
    paginate(comments, request.query, selfUrl, respond);
  });

  route('POST', '/repos/:owner/:repo/issues/:number/comments', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const body = (request.body as { body?: unknown } | undefined)?.body;
    if (typeof body !== 'string' || body === '') throw validationFailed('IssueComment', 'body');
    if (body.length > 65_536) {
      throw validationFailed('IssueComment', 'body', 'Body is too long (maximum is 65536 characters)');
    }
    const comment = createComment(state, Number(request.params.number), body, bot, 'NONE');
    comment.performed_via_github_app = { id: appId, slug: appSlug, name: appSlug };
    respond(201, publicComment(comment));
  });

  route('PATCH', '/repos/:owner/:repo/issues/comments/:id', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const comment = commentOrThrow(state, Number(request.params.id));
    const body = (request.body as { body?: unknown } | undefined)?.body;
    if (typeof body !== 'string' || body === '') throw validationFailed('IssueComment', 'body');
    if (body.length > 65_536) {
      throw validationFailed('IssueComment', 'body', 'Body is too long (maximum is 65536 characters)');
    }
    comment.body = body;
    comment.updated_at = githubTimestamp();
    respond(200, publicComment(comment));
  });

  route('DELETE', '/repos/:owner/:repo/issues/comments/:id', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const id = Number(request.params.id);
    commentOrThrow(state, id);
    state.comments.delete(id);
    state.reactions.delete(id);
    respond(204);
  });

  route('POST', '/repos/:owner/:repo/issues/comments/:id/reactions', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const id = Number(request.params.id);
    commentOrThrow(state, id);
    const content = (request.body as { content?: unknown } | undefined)?.content;
    if (typeof content !== 'string' || !REACTIONS.has(content)) throw validationFailed('Reaction', 'content');
    const reactions = state.reactions.get(id) ?? [];
    // The same reaction by the same user again is not a new one: GitHub answers 200 with the old.
    const existing = reactions.find(
      (reaction) => reaction.content === content && reaction.user.id === bot.id,
    );
    if (existing) {
      respond(200, existing);
      return;
    }
    const reactionId = newId();
    const reaction = {
      id: reactionId,
      node_id: Buffer.from(`08:Reaction${reactionId}`).toString('base64'),
      user: bot,
      content,
      created_at: githubTimestamp(),
    };
    state.reactions.set(id, [...reactions, reaction]);
    respond(201, reaction);
  });

  /** GitHub lists a check run's open pull requests whose head is its commit, not those from forks. */
  const withPulls = (state: RepoState, run: Omit<CheckRunSpec, 'pullRequests'>): CheckRunSpec => ({
    ...run,
    pullRequests: [...state.pulls.values()].filter(
      (pull) => pull.headSha === run.headSha && pull.state !== 'closed' && !pull.merged && !pull.forkOwner,
    ),
  });

  route('GET', '/repos/:owner/:repo/commits/:ref/check-runs', (selfUrl) => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const ref = request.params.ref!;
    const filter = request.query.get('filter') ?? 'latest';
    if (filter !== 'latest' && filter !== 'all') throw validationFailed('CheckRun', 'filter');
    const name = request.query.get('check_name');
    let runs = [...state.checkRuns.values()]
      .filter((run) => run.headSha === ref && (name === null || run.name === name))
      .sort((a, b) => b.id - a.id);
    // `latest`: the newest run of each name, as GitHub's default.
    if (filter === 'latest')
      runs = runs.filter((run, i) => runs.findIndex((other) => other.name === run.name) === i);
    const objects = runs.map((run) => checkRunObject(withPulls(state, run)));
    paginate(objects, request.query, selfUrl, respond, 200, (page) => ({
      total_count: objects.length,
      check_runs: page,
    }));
  });

  route('POST', '/repos/:owner/:repo/deployments', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const input = (request.body ?? {}) as Record<string, unknown>;
    const ref = input.ref;
    if (typeof ref !== 'string' || ref === '') throw validationFailed('Deployment', 'ref');
    const pullHead = [...state.pulls.values()].find((pull) => (pull.headRef ?? 'changes') === ref);
    const sha = /^[0-9a-f]{40}$/.test(ref)
      ? ref
      : pullHead
        ? pullHead.headSha
        : ref === state.defaultBranch
          ? createHash('sha1').update(`branch:${ref}`).digest('hex')
          : undefined;
    if (!sha) throw new HttpError(422, `No ref found for: ${ref}`);
    const id = newId();
    const now = githubTimestamp();
    const environment = typeof input.environment === 'string' ? input.environment : 'production';
    const deployment: Deployment = {
      id,
      node_id: Buffer.from(`010:Deployment${id}`).toString('base64'),
      url: `${apiRepoUrl(state)}/deployments/${id}`,
      sha,
      ref,
      task: typeof input.task === 'string' ? input.task : 'deploy',
      payload: input.payload ?? {},
      original_environment: environment,
      environment,
      description: typeof input.description === 'string' ? input.description : null,
      creator: bot,
      created_at: now,
      updated_at: now,
      statuses_url: `${apiRepoUrl(state)}/deployments/${id}/statuses`,
      repository_url: apiRepoUrl(state),
      transient_environment: input.transient_environment === true,
      production_environment:
        typeof input.production_environment === 'boolean'
          ? input.production_environment
          : environment === 'production',
    };
    state.deployments.set(id, deployment);
    state.statuses.set(id, []);
    respond(201, deployment);
  });

  route('GET', '/repos/:owner/:repo/deployments', (selfUrl) => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const filters = ['sha', 'ref', 'task', 'environment'] as const;
    const deployments = [...state.deployments.values()]
      .filter((deployment) =>
        filters.every((filter) => {
          const wanted = request.query.get(filter);
          return wanted === null || deployment[filter] === wanted;
        }),
      )
      // Newest first, as GitHub lists them.
      .sort((a, b) => b.id - a.id);
    paginate(deployments, request.query, selfUrl, respond);
  });

  route('POST', '/repos/:owner/:repo/deployments/:id/statuses', () => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const deployment = state.deployments.get(Number(request.params.id));
    if (!deployment) throw notFound('https://docs.github.com/rest/deployments/statuses');
    const input = (request.body ?? {}) as Record<string, unknown>;
    const text = (name: string) => (typeof input[name] === 'string' ? (input[name] as string) : '');
    const stateName = text('state');
    if (!STATUS_STATES.has(stateName)) throw validationFailed('DeploymentStatus', 'state');
    const id = newId();
    const now = githubTimestamp();
    const logUrl = text('log_url') || text('target_url');
    if (text('environment')) deployment.environment = text('environment');
    const status: DeploymentStatus = {
      id,
      node_id: Buffer.from(`016:DeploymentStatus${id}`).toString('base64'),
      url: `${deployment.url}/statuses/${id}`,
      state: stateName,
      creator: bot,
      description: text('description'),
      environment: deployment.environment,
      target_url: logUrl,
      log_url: logUrl,
      environment_url: text('environment_url'),
      created_at: now,
      updated_at: now,
      deployment_url: deployment.url,
      repository_url: apiRepoUrl(state),
    };
    state.statuses.get(deployment.id)?.push(status);
    deployment.updated_at = now;
    // `auto_inactive` (default true), as documented: a success marks earlier successful deployments of
    // the same environment inactive, but only non-transient, non-production ones.
    if (stateName === 'success' && input.auto_inactive !== false) {
      for (const earlier of state.deployments.values()) {
        if (
          earlier.id < deployment.id &&
          earlier.environment === deployment.environment &&
          !earlier.transient_environment &&
          !earlier.production_environment &&
          latestStatus(state, earlier.id)?.state === 'success'
        ) {
          const inactiveId = newId();
          state.statuses.get(earlier.id)?.push({
            ...status,
            id: inactiveId,
            node_id: Buffer.from(`016:DeploymentStatus${inactiveId}`).toString('base64'),
            url: `${earlier.url}/statuses/${inactiveId}`,
            state: 'inactive',
            deployment_url: earlier.url,
          });
        }
      }
    }
    respond(201, status);
  });

  route('GET', '/repos/:owner/:repo/deployments/:id/statuses', (selfUrl) => (request, respond) => {
    const state = repoOrThrow(request.params.owner!, request.params.repo!);
    const statuses = state.statuses.get(Number(request.params.id));
    if (!statuses) throw notFound('https://docs.github.com/rest/deployments/statuses');
    paginate(
      [...statuses].sort((a, b) => b.id - a.id),
      request.query,
      selfUrl,
      respond,
    );
  });

  const send = (
    response: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    response.writeHead(status, {
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
      ...headers,
    });
    response.end(text);
  };

  const readBody = async (request: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? 'GET';
    const selfUrl = new URL(request.url ?? '/', `http://${request.headers.host ?? '127.0.0.1'}`);
    const path = selfUrl.pathname.replace(/^\/api\/v3(?=\/)/, '') || '/';
    const query = Object.fromEntries(selfUrl.searchParams);
    const text = await readBody(request);
    const record = (status: number, body: unknown) => calls.push({ method, path, query, body, status });
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      record(400, text);
      send(response, 400, {
        message: 'Problems parsing JSON',
        documentation_url: 'https://docs.github.com/rest',
      });
      return;
    }

    const failure = failures.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.method === undefined || candidate.method.toUpperCase() === method) &&
        (typeof candidate.path === 'string' ? candidate.path === path : candidate.path.test(path)),
    );
    if (failure) {
      failure.remaining--;
      const headers = failure.headers ?? {};
      record(failure.status, body);
      send(response, failure.status, failure.body ?? defaultFailureBody(failure.status, headers), headers);
      return;
    }

    for (const candidate of routes) {
      if (candidate.method !== method) continue;
      const match = candidate.pattern.exec(path);
      if (!match) continue;
      const params = Object.fromEntries(
        Object.entries(match.groups ?? {}).map(([name, value]) => [name, value === undefined ? '' : value]),
      );
      try {
        candidate.handler(selfUrl)(
          { params, query: selfUrl.searchParams, body, authorization: request.headers.authorization },
          (status, responseBody, headers) => {
            record(status, body);
            send(response, status, responseBody, headers);
          },
        );
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        record(error.status, body);
        send(response, error.status, {
          message: error.message,
          documentation_url: error.documentation,
          ...error.extra,
          status: String(error.status),
        });
      }
      return;
    }
    record(404, body);
    send(response, 404, {
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest',
      status: '404',
    });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, { message: `GitHub double failed: ${String(error)}` });
    });
  });
  const listenHost = options.listenHost ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${listenHost}:${port}`;

  const repoFor = (owner: string, repo: string) => {
    const state = repos.get(key(owner, repo));
    if (!state) throw new Error(`GitHub double: add ${owner}/${repo} with addRepo first`);
    return state;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    host: `${listenHost}:${port}`,
    calls,
    callsTo: (method, path) =>
      calls.filter(
        (call) =>
          call.method === method.toUpperCase() &&
          (typeof path === 'string' ? call.path === path : path.test(call.path)),
      ),
    addRepo(owner, repo, repoOptions = {}) {
      if (repos.has(key(owner, repo))) return;
      repos.set(key(owner, repo), {
        owner,
        name: repo,
        installationId: repoOptions.installationId ?? 1,
        defaultBranch: repoOptions.defaultBranch ?? 'main',
        files: new Map(),
        roles: new Map(),
        pulls: new Map(),
        comments: new Map(),
        reactions: new Map(),
        deployments: new Map(),
        statuses: new Map(),
        checkRuns: new Map(),
      });
    },
    setFile(owner, repo, ref, path, content) {
      const state = repoFor(owner, repo);
      const files = state.files.get(ref) ?? new Map<string, Buffer>();
      files.set(path.replace(/^\/+/, ''), Buffer.isBuffer(content) ? content : Buffer.from(content));
      state.files.set(ref, files);
    },
    setPermission(owner, repo, login, role) {
      const state = repoFor(owner, repo);
      if (role === 'none') state.roles.delete(login.toLowerCase());
      else state.roles.set(login.toLowerCase(), role);
    },
    addPullRequest(spec) {
      const state = repoFor(spec.owner, spec.repo);
      const stored = { ...spec, owner: state.owner, repo: state.name };
      state.pulls.set(spec.number, stored);
      return pullRequestObject(stored);
    },
    updatePullRequest(owner, repo, number, change) {
      const state = repoFor(owner, repo);
      const current = state.pulls.get(number);
      if (!current) throw new Error(`GitHub double: no pull request ${owner}/${repo}#${number}`);
      const updated = { ...current, ...change };
      state.pulls.set(number, updated);
      return pullRequestObject(updated);
    },
    addComment(owner, repo, number, body, login) {
      const state = repoFor(owner, repo);
      const isOwner = login.toLowerCase() === state.owner.toLowerCase();
      const association = isOwner ? 'OWNER' : state.roles.has(login.toLowerCase()) ? 'COLLABORATOR' : 'NONE';
      return publicComment(createComment(state, number, body, userObject(login), association));
    },
    comments: (owner, repo, number) =>
      [...repoFor(owner, repo).comments.values()]
        .filter((comment) => comment.issueNumber === number)
        .sort((a, b) => a.id - b.id)
        .map(publicComment),
    reactions: (owner, repo, commentId) => [...(repoFor(owner, repo).reactions.get(commentId) ?? [])],
    deployments(owner, repo) {
      const state = repoFor(owner, repo);
      return [...state.deployments.values()]
        .sort((a, b) => a.id - b.id)
        .map((deployment) => ({ ...deployment, statuses: [...(state.statuses.get(deployment.id) ?? [])] }));
    },
    addCheckRun(owner, repo, spec) {
      const state = repoFor(owner, repo);
      const run = { ...spec, owner: state.owner, repo: state.name, id: newId() };
      state.checkRuns.set(run.id, run);
      return withPulls(state, run);
    },
    updateCheckRun(owner, repo, id, change) {
      const state = repoFor(owner, repo);
      const current = state.checkRuns.get(id);
      if (!current) throw new Error(`GitHub double: no check run ${id} in ${owner}/${repo}`);
      const updated = { ...current, ...change };
      state.checkRuns.set(id, updated);
      return withPulls(state, updated);
    },
    failNext(spec) {
      failures.push({ ...spec, remaining: spec.times ?? 1 });
    },
    oidcIssuer: issuerOf(baseUrl),
    issueActionsToken: (spec) => actionsToken(spec, issuerOf(baseUrl)),
    actionsRuntime(spec) {
      const requestToken = randomBytes(20).toString('hex');
      runtimeJobs.set(requestToken, spec);
      // The runtime's URL already has a query; `core.getIDToken` appends `&audience=…`.
      return { requestUrl: `${baseUrl}/_apis/actions/idtoken?api-version=2.0`, requestToken };
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
