import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PreviewJob } from '../../app/queue/preview-job.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { freePort } from '../../controlplane/index.ts';
import { type ActionsTokenSpec, type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { serviceEnv } from '../support/preview-service.ts';
import type { PullRequestSpec } from '../support/webhooks.ts';

const redisUrl = inject('redisUrl');
const silent = pino({ level: 'silent' });

const OWNER = 'acme';
const REPO = 'shop';
const REPOSITORY = `${OWNER}/${REPO}`;
const sha = (seed: string) => seed.repeat(40).slice(0, 40);

let github: GitHubDouble;
beforeAll(async () => {
  github = await startGitHubDouble();
  github.addRepo(OWNER, REPO, { installationId: 7 });
  // The runs' actor may do what `/vcluster` commands need (write), as the person who pushed may.
  github.setPermission(OWNER, REPO, 'octocat', 'write');
  // Installed elsewhere: its workflows may call the API, but only about their own pull requests.
  github.addRepo('other', 'site', { installationId: 8 });
});
afterAll(async () => {
  await github?.stop();
});

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  const pending = cleanups.reverse();
  cleanups = [];
  for (const cleanup of pending) await cleanup();
});

let nextPr = 1;
const openPullRequest = (spec: Partial<PullRequestSpec> = {}): PullRequestSpec => {
  const full: PullRequestSpec = { owner: OWNER, repo: REPO, number: nextPr++, headSha: sha('a'), ...spec };
  github.addPullRequest(full);
  return full;
};

/** This installation's own audience (API_AUDIENCE), which tokens are asked for. */
const AUDIENCE = 'https://previews.acme.test';

const env = async (overrides: Record<string, string> = {}) => ({
  ...(await serviceEnv({ github, redisUrl, webhookSecret: 'whsec' })),
  API_AUDIENCE: AUDIENCE,
  ...overrides,
});

async function start(options: { hostKubeconfig?: string } = {}) {
  const queueName = `test-api-${randomBytes(4).toString('hex')}`;
  const service: RunningService = await startService({
    role: 'web',
    env: options.hostKubeconfig
      ? {
          ...(await serviceEnv({
            github,
            redisUrl,
            webhookSecret: 'whsec',
            hostKubeconfig: options.hostKubeconfig,
          })),
          API_AUDIENCE: AUDIENCE,
        }
      : await env(),
    queueName,
    logger: silent,
    handleSignals: false,
  });
  const queue = service.queue as PreviewQueue;
  cleanups.push(async () => {
    await queue.queue.obliterate({ force: true });
    await service.stop();
  });
  /** The jobs not yet finished, for one pull request or all. */
  const jobs = async (pr?: number): Promise<PreviewJob[]> =>
    (await queue.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']))
      .map((job) => job.data)
      .filter((data) => pr === undefined || data.pr === pr);
  return { service, queue, jobs };
}

const token = (spec: Partial<ActionsTokenSpec> = {}) =>
  github.issueActionsToken({ repository: REPOSITORY, actor: 'octocat', audience: AUDIENCE, ...spec });

async function call(
  service: RunningService,
  path: string,
  options: { method?: string; token?: string; body?: unknown; rawBody?: string } = {},
) {
  const response = await fetch(`${service.url}${path}`, {
    method: options.method ?? (options.body !== undefined || options.rawBody !== undefined ? 'POST' : 'GET'),
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.rawBody !== undefined
      ? { body: options.rawBody }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('POST /api/v1/previews', () => {
  it('a workflow token of the repository → 202, one job up@<head sha> for the installation', async () => {
    const { service, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('1') });
    const answer = await call(service, '/api/v1/previews', {
      token: token(),
      body: { pullRequest: pr.number },
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      jobId: expect.stringMatching(new RegExp(`^pr-acme--shop-${pr.number}-`)),
      desired: { kind: 'up', sha: sha('1') },
      statusUrl: `/api/v1/previews/acme/shop/${pr.number}?job=${answer.body.jobId}`,
    });
    const queued = await jobs(pr.number);
    expect(queued).toEqual([
      expect.objectContaining({
        repo: REPOSITORY,
        pr: pr.number,
        desired: { kind: 'up', sha: sha('1') },
        installationId: 7,
        requestedBy: 'octocat',
      }),
    ]);
    // The installation was found through the App, as Probot's app auth does, and the head sha read.
    expect(github.callsTo('GET', '/repos/acme/shop/installation').length).toBeGreaterThan(0);
    expect(github.callsTo('GET', `/repos/acme/shop/pulls/${pr.number}`)).toHaveLength(1);
  });

  it('deploys the commit given when it is the head, and maps each action onto the same desired states as comments', async () => {
    const { service, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('2') });
    const post = (body: Record<string, unknown>) =>
      call(service, '/api/v1/previews', { token: token(), body: { pullRequest: pr.number, ...body } });
    // A commit the pull request has moved on from is refused: nothing is enqueued.
    const stale = await post({ action: 'reset', sha: sha('3') });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatch(/is not the head of acme\/shop#\d+ \(2222222\)/);
    expect(await jobs(pr.number)).toEqual([]);
    github.updatePullRequest(OWNER, REPO, pr.number, { headSha: sha('3') });
    expect((await post({ action: 'reset', sha: sha('3') })).body.desired).toEqual({
      kind: 'reset',
      sha: sha('3'),
    });
    expect((await jobs(pr.number)).map((job) => job.desired)).toEqual([{ kind: 'reset', sha: sha('3') }]);
    // A newer request replaces the waiting one: newest wins, one job.
    expect((await post({ action: 'pause' })).body.desired).toEqual({ kind: 'pause' });
    expect((await jobs(pr.number)).map((job) => job.desired)).toEqual([{ kind: 'pause' }]);
    expect((await post({ action: 'down' })).body.desired).toEqual({ kind: 'down' });
  });

  it('applies the repo policy: a draft gets nothing, a fork waits for approval (sticky comment)', async () => {
    const { service, jobs } = await start();
    const draft = openPullRequest({ draft: true });
    const skipped = await call(service, '/api/v1/previews', {
      token: token(),
      body: { pullRequest: draft.number },
    });
    expect(skipped.status).toBe(200);
    expect(skipped.body).toEqual({
      desired: { kind: 'skip', reason: expect.stringMatching(/draft pull requests get no preview/) },
      statusUrl: `/api/v1/previews/acme/shop/${draft.number}`,
    });

    const fork = openPullRequest({ forkOwner: 'stranger', headSha: sha('4') });
    const waiting = await call(service, '/api/v1/previews', {
      token: token(),
      body: { pullRequest: fork.number },
    });
    expect(waiting.status).toBe(200);
    expect(waiting.body.desired).toEqual({ kind: 'await-approval', sha: sha('4') });
    expect(github.comments(OWNER, REPO, fork.number).map((comment) => comment.body.split('\n')[0])).toEqual([
      STICKY_MARKER,
    ]);
    expect(await jobs()).toEqual([]);
  });

  it('answers 400 naming each wrong field, and enqueues nothing', async () => {
    const { service, jobs } = await start();
    const bad = await call(service, '/api/v1/previews', {
      token: token(),
      body: { pullRequest: 'twelve', action: 'explode', sha: 'abc' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/pullRequest must be the pull request number/);
    expect(bad.body.error).toMatch(/action must be one of up, down, reset, redeploy, pause, resume/);
    expect(bad.body.error).toMatch(/sha must be a full commit id/);
    expect(bad.body.hint).toMatch(/send JSON like/);
    // The repository comes from the token; a body cannot name another one.
    const other = await call(service, '/api/v1/previews', {
      token: token(),
      body: { pullRequest: 1, repository: 'other/site' },
    });
    expect(other).toMatchObject({
      status: 400,
      body: { error: 'invalid request: unknown field repository' },
    });
    expect((await call(service, '/api/v1/previews', { token: token(), rawBody: '{oops' })).body.error).toBe(
      'invalid request: the body is not JSON',
    );
    expect(await jobs()).toEqual([]);
  });

  it('refuses tokens with 401 and says why: none, expired, wrong audience, wrong issuer, forged', async () => {
    const { service, jobs } = await start();
    const pr = openPullRequest();
    const post = (bearer?: string) =>
      call(service, '/api/v1/previews', {
        ...(bearer ? { token: bearer } : {}),
        body: { pullRequest: pr.number },
      });
    const cases: [string | undefined, RegExp][] = [
      [undefined, /no Authorization header/],
      ['not-a-jwt', /not a JSON Web Token/],
      [token({ expiresIn: -300 }), /expired at /],
      [
        token({ audience: 'sts.amazonaws.com' }),
        /wrong audience "sts\.amazonaws\.com" \(expected https:\/\/previews\.acme\.test\)/,
      ],
      [token({ claims: { iss: 'https://token.actions.githubusercontent.com' } }), /wrong issuer/],
      [token({ forged: true }), /its signature is not from http:\/\/127\.0\.0\.1:\d+\/_services\/token/],
    ];
    for (const [bearer, reason] of cases) {
      const answer = await post(bearer);
      expect(answer.status, String(reason)).toBe(401);
      expect(answer.body.error).toMatch(reason);
      expect(answer.body.hint).toEqual(expect.any(String));
    }
    expect(await jobs()).toEqual([]);
  });

  it('a repository without the App installed → 403 saying to install it; an unknown pull request → 404', async () => {
    const { service, jobs } = await start();
    const answer = await call(service, '/api/v1/previews', {
      token: token({ repository: 'lonely/tool' }),
      body: { pullRequest: 1 },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toBe('the vcluster-preview GitHub App is not installed on lonely/tool');
    expect(answer.body.hint).toMatch(/^install the App on lonely\/tool/);
    const missing = await call(service, '/api/v1/previews', { token: token(), body: { pullRequest: 9999 } });
    expect(missing).toMatchObject({
      status: 404,
      body: { error: 'pull request #9999 does not exist in acme/shop' },
    });
    expect(await jobs()).toEqual([]);
  });
});

describe('GET /api/v1/previews/{owner}/{repo}/{pr}', () => {
  it('reflects a queued job: queued at its place, with the commit it will deploy', async () => {
    const { service } = await start();
    const first = openPullRequest({ headSha: sha('5') });
    const second = openPullRequest({ headSha: sha('6') });
    for (const pr of [first, second]) {
      await call(service, '/api/v1/previews', { token: token(), body: { pullRequest: pr.number } });
    }
    const posted = await call(service, '/api/v1/previews', {
      token: token(),
      body: { pullRequest: second.number },
    });
    const status = await call(service, String(posted.body.statusUrl), { token: token() });
    expect(status).toEqual({
      status: 200,
      body: {
        state: 'queued',
        queuePosition: 2,
        sha: sha('6'),
        jobId: posted.body.jobId,
        desired: 'up',
      },
    });
    // Without the job named, the queue's job for the pull request answers.
    const byPr = await call(service, `/api/v1/previews/acme/shop/${first.number}`, { token: token() });
    expect(byPr.body).toMatchObject({ state: 'queued', queuePosition: 1, sha: sha('5') });
    // Nothing asked, nothing on the host.
    const idle = await call(service, `/api/v1/previews/acme/shop/${nextPr + 50}`, { token: token() });
    expect(idle.body).toEqual({ state: 'none' });
  });

  it("a token of another repository cannot read this repository's previews (403)", async () => {
    const { service } = await start();
    const pr = openPullRequest();
    await call(service, '/api/v1/previews', { token: token(), body: { pullRequest: pr.number } });
    const answer = await call(service, `/api/v1/previews/acme/shop/${pr.number}`, {
      token: token({ repository: 'other/site' }),
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({
      error: 'the token is for other/site, not acme/shop',
      hint: expect.stringMatching(/its own repository only/),
    });
    expect(JSON.stringify(answer.body)).not.toContain(sha('a'));
    const expired = await call(service, `/api/v1/previews/acme/shop/${pr.number}`, {
      token: token({ expiresIn: -120 }),
    });
    expect(expired.status).toBe(401);
    const foreignJob = await call(service, `/api/v1/previews/acme/shop/${pr.number}?job=pr-other--site-1-x`, {
      token: token(),
    });
    expect(foreignJob).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/is not a job of acme\/shop/) },
    });
  });
});

describe('GET /api/v1/previews/{owner}/{repo}/{pr}/kubeconfig', () => {
  const kubeconfigOf = (service: RunningService, pr: number, bearer?: string, query = '') =>
    call(service, `/api/v1/previews/acme/shop/${pr}/kubeconfig${query}`, bearer ? { token: bearer } : {});

  it('refuses without a valid token of the repository, for a fork, a bad expiration, an unknown pull request', async () => {
    const { service } = await start();
    const pr = openPullRequest();
    const fork = openPullRequest({ forkOwner: 'stranger' });
    const cases: [string, Awaited<ReturnType<typeof call>>, number, RegExp][] = [
      ['no token', await kubeconfigOf(service, pr.number), 401, /no Authorization header/],
      ['expired', await kubeconfigOf(service, pr.number, token({ expiresIn: -300 })), 401, /expired at /],
      [
        'another repository',
        await kubeconfigOf(service, pr.number, token({ repository: 'other/site' })),
        403,
        /^the token is for other\/site, not acme\/shop$/,
      ],
      [
        'a fork',
        await kubeconfigOf(service, fork.number, token()),
        403,
        new RegExp(
          `^pull request #${fork.number} of acme/shop comes from stranger/shop: a fork's pull request gets no kubeconfig$`,
        ),
      ],
      [
        'too short',
        await kubeconfigOf(service, pr.number, token(), '?expiration=60'),
        400,
        /expiration "60" is not a number of seconds from 600 to 86400/,
      ],
      [
        'unknown',
        await kubeconfigOf(service, 9999, token()),
        404,
        /pull request #9999 does not exist in acme\/shop/,
      ],
      // A web role without KUBECONFIG cannot reach any virtual cluster: it says so.
      [
        'no host access',
        await kubeconfigOf(service, pr.number, token()),
        503,
        /no access to the host cluster/,
      ],
    ];
    for (const [what, answer, status, error] of cases) {
      expect(answer.status, what).toBe(status);
      expect(answer.body.error, what).toMatch(error);
      expect(answer.body.hint, what).toEqual(expect.any(String));
      expect(answer.body.kubeconfig, what).toBeUndefined();
    }
    const post = await call(service, `/api/v1/previews/acme/shop/${pr.number}/kubeconfig`, {
      token: token(),
      body: {},
    });
    expect(post.status).toBe(405);
  });

  it('answers 404 when the pull request has no preview on the host cluster', async () => {
    const { service } = await start({ hostKubeconfig: inject('hostKubeconfig') });
    const pr = openPullRequest();
    const answer = await kubeconfigOf(service, pr.number, token());
    expect(answer).toEqual({
      status: 404,
      body: {
        error: `acme/shop#${pr.number} has no preview`,
        hint: expect.stringMatching(/ask for one first/),
      },
    });
  });
});

describe('the API when Redis is down', () => {
  it('answers 503 with what to do, instead of hanging', async () => {
    const service = await startService({
      role: 'web',
      env: await env({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }),
      queueName: `test-api-down-${randomBytes(4).toString('hex')}`,
      logger: silent,
      handleSignals: false,
    });
    cleanups.push(() => service.stop());
    const pr = openPullRequest();
    const started = Date.now();
    const answer = await call(service, '/api/v1/previews', {
      token: token(),
      body: { pullRequest: pr.number },
    });
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatch(/cannot reach its queue \(Redis\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
