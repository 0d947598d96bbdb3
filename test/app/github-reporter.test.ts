import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GitHubRetryLimits } from '../../app/github/octokit.ts';
import {
  createGitHubReporter,
  type GitHubClient,
  GitHubReportError,
  type GitHubReporterOptions,
} from '../../app/github/reporter.ts';
import { STICKY_MARKER, type StickyCommentState } from '../../app/sticky-comment.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { tokenOctokit } from '../support/github-octokit.ts';

describe('GitHub reporter against the GitHub double', () => {
  let github: GitHubDouble;
  let octokit: GitHubClient;
  let logs: { level: number; msg: string }[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
        done();
      },
    }),
  );
  const owner = 'acme';
  const repo = 'shop';
  const sha = (char: string) => char.repeat(40);
  let nextPull = 1;
  let pullNumber = 0;

  const reporter = (overrides: Partial<GitHubReporterOptions> = {}) =>
    createGitHubReporter({
      octokit,
      owner,
      repo,
      pullNumber,
      log: log.child({ pr: pullNumber }),
      ...overrides,
    });
  /** The service's Octokit (retry and throttling plugins), with a short 5xx backoff for the tests. */
  const octokitWith = (limits: Partial<GitHubRetryLimits>) =>
    tokenOctokit({
      baseUrl: github.url,
      token: 'ghs_test',
      log: log.child({ name: 'octokit' }),
      limits: { retryAfterBaseMs: 5, ...limits },
    });
  const warnings = (pattern: RegExp) =>
    logs.filter((entry) => entry.level === 40 && pattern.test(entry.msg)).map((entry) => entry.msg);
  const ready = (url: string): StickyCommentState => ({ state: 'ready', url, sha: sha('a') });
  const commentsPath = () => `/repos/${owner}/${repo}/issues/${pullNumber}/comments`;

  beforeAll(async () => {
    github = await startGitHubDouble();
    octokit = octokitWith({});
    github.addRepo(owner, repo);
  });
  afterAll(() => github.stop());
  beforeEach(() => {
    // A fresh pull request per test, so the reporter's per-PR memory starts empty too.
    pullNumber = nextPull++;
    github.addPullRequest({ owner, repo, number: pullNumber, headSha: sha('a'), author: 'dev' });
    github.calls.length = 0;
    logs = [];
  });

  describe('sticky comment', () => {
    it('is created once, then edited in place; an unchanged render writes nothing', async () => {
      const first = await reporter().upsertStickyComment({ state: 'deploying', sha: sha('a') });
      const second = await reporter().upsertStickyComment(ready('https://pr-1.example.test'));
      await reporter().upsertStickyComment(ready('https://pr-1.example.test'));

      expect(first.created).toBe(true);
      expect(second).toEqual({ id: first.id, created: false });
      const comments = github.comments(owner, repo, pullNumber);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body.split('\n')[0]).toBe(STICKY_MARKER);
      expect(comments[0]?.body).toContain('https://pr-1.example.test');
      expect(github.callsTo('POST', commentsPath())).toHaveLength(1);
      expect(github.callsTo('PATCH', /\/issues\/comments\/\d+$/)).toHaveLength(1);
    });

    it('finds its comment past the first page among other people’s, and leaves quotes of it alone', async () => {
      for (let i = 0; i < 130; i++) github.addComment(owner, repo, pullNumber, `chatter ${i}`, 'dev');
      const ours = github.addComment(
        owner,
        repo,
        pullNumber,
        `${STICKY_MARKER}\n## old`,
        'vcluster-preview[bot]',
      );
      github.addComment(owner, repo, pullNumber, `> ${STICKY_MARKER}\n> ## old\n\nwhy?`, 'dev');

      const result = await reporter().upsertStickyComment(ready('https://pr-2.example.test'));

      expect(result).toEqual({ id: ours.id, created: false });
      expect(github.callsTo('GET', commentsPath()).map((call) => call.query.page ?? '1')).toEqual(['1', '2']);
      expect(github.callsTo('POST', commentsPath())).toHaveLength(0);
      const comments = github.comments(owner, repo, pullNumber);
      expect(comments).toHaveLength(132);
      expect(comments.find((comment) => comment.id === ours.id)?.body).toContain('https://pr-2.example.test');
    });

    it('never makes two from concurrent updates in one process; the last update wins', async () => {
      const states = [1, 2, 3, 4, 5].map((n) => ready(`https://pr-3-v${n}.example.test`));
      await Promise.all(states.map((state) => reporter().upsertStickyComment(state)));

      const comments = github.comments(owner, repo, pullNumber);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body).toContain('https://pr-3-v5.example.test');
      expect(github.callsTo('POST', commentsPath())).toHaveLength(1);
    });

    it('settles a race between processes: keeps the oldest, deletes the newer', async () => {
      const oldest = github.addComment(
        owner,
        repo,
        pullNumber,
        `${STICKY_MARKER}\n## a`,
        'vcluster-preview[bot]',
      );
      const newer = github.addComment(
        owner,
        repo,
        pullNumber,
        `${STICKY_MARKER}\n## b`,
        'vcluster-preview[bot]',
      );

      const result = await reporter().upsertStickyComment(ready('https://pr-4.example.test'));

      expect(result.id).toBe(oldest.id);
      expect(github.comments(owner, repo, pullNumber).map((comment) => comment.id)).toEqual([oldest.id]);
      expect(github.callsTo('DELETE', `/repos/${owner}/${repo}/issues/comments/${newer.id}`)).toHaveLength(1);
      expect(logs.some((entry) => entry.msg === 'deleting a duplicate sticky comment')).toBe(true);
    });

    it('creates it again when someone deleted it', async () => {
      const first = await reporter().upsertStickyComment({ state: 'deploying' });
      await octokit.rest.issues.deleteComment({ owner, repo, comment_id: first.id });
      const second = await reporter().upsertStickyComment(ready('https://pr-5.example.test'));
      expect(second.created).toBe(true);
      expect(github.comments(owner, repo, pullNumber).map((comment) => comment.id)).toEqual([second.id]);
    });
  });

  describe('retries', () => {
    it('retries 5xx answers with backoff', async () => {
      github.failNext({ method: 'POST', path: commentsPath(), times: 2, status: 502 });
      const result = await reporter().upsertStickyComment({ state: 'queued' });

      expect(result.created).toBe(true);
      expect(github.callsTo('POST', commentsPath()).map((call) => call.status)).toEqual([502, 502, 201]);
      expect(github.comments(owner, repo, pullNumber)).toHaveLength(1);
    });

    it('waits as long as retry-after says on a secondary rate limit, and says so', async () => {
      const comment = github.addComment(owner, repo, pullNumber, '/vcluster status', 'dev');
      github.failNext({
        method: 'POST',
        path: /\/reactions$/,
        status: 403,
        headers: { 'retry-after': '1' },
      });
      const started = Date.now();
      await reporter().addReaction(comment.id);

      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(github.callsTo('POST', /\/reactions$/).map((call) => call.status)).toEqual([403, 201]);
      expect(github.reactions(owner, repo, comment.id).map((reaction) => reaction.content)).toEqual(['eyes']);
      expect(warnings(/secondary rate limit was hit by POST .*reactions: retrying in 1 s/)).toHaveLength(1);
    });

    it('waits for the reset of an exhausted primary rate limit', async () => {
      github.failNext({
        method: 'POST',
        path: /\/deployments$/,
        status: 403,
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
        },
      });
      const started = Date.now();
      await reporter().startDeployment(sha('a'));

      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(github.callsTo('POST', /\/deployments$/).map((call) => call.status)).toEqual([403, 201]);
      expect(warnings(/GitHub's rate limit was hit by POST .*deployments: retrying in [1-3] s/)).toHaveLength(
        1,
      );
    });

    it('gives up after its retries with a typed, transient error', async () => {
      github.failNext({ method: 'POST', path: commentsPath(), times: 10, status: 503 });
      const error = await reporter({ octokit: octokitWith({ retries: 2, retryAfterBaseMs: 1 }) })
        .upsertStickyComment({ state: 'queued' })
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(GitHubReportError);
      expect(error).toMatchObject({ status: 503, transient: true });
      expect((error as Error).message).toMatch(
        /Could not update the sticky comment on acme\/shop#\d+: GitHub answered 503/,
      );
      expect(github.callsTo('POST', commentsPath())).toHaveLength(3);
    });

    it('hands a rate limit longer than it waits to the caller with retryAfterMs', async () => {
      github.failNext({
        method: 'POST',
        path: commentsPath(),
        status: 429,
        headers: { 'retry-after': '600' },
      });
      const error = await reporter()
        .upsertStickyComment({ state: 'queued' })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ status: 429, transient: true, retryAfterMs: 600_000 });
      expect((error as Error).message).toMatch(/try again in 600 s/);
      expect(github.callsTo('POST', commentsPath())).toHaveLength(1);
      expect(warnings(/not waiting 600 s here/)).toHaveLength(1);
    });

    it('does not retry what cannot succeed, and says what to check', async () => {
      github.failNext({ method: 'POST', path: /\/deployments$/, status: 403 });
      const error = await reporter()
        .startDeployment(sha('a'))
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ status: 403, transient: false });
      expect((error as Error).message).toMatch(/Deployments: write/);
      expect(github.callsTo('POST', /\/deployments$/)).toHaveLength(1);

      const missing = await reporter({ pullNumber: 9_999 })
        .upsertStickyComment({ state: 'queued' })
        .catch((caught: unknown) => caught);
      expect(missing).toMatchObject({ status: 404, transient: false });
    });

    it('has the same bounds in the Octokit Probot builds for an installation', async () => {
      // Probot sets handlers of its own that never wait out a secondary limit; the service's win.
      const probot = 'probot';
      const { Probot } = (await import(probot)) as {
        Probot: new (options: object) => { auth(id: number): Promise<GitHubClient> };
      };
      const { serviceOctokit } = await import('../../app/github/octokit.ts');
      const { generateKeyPairSync } = await import('node:crypto');
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      github.addRepo('acme', 'installed', { installationId: 7 });
      const app = new Probot({
        appId: 1,
        privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        baseUrl: github.url,
        Octokit: serviceOctokit(),
        log: log.child({ name: 'probot' }),
      });
      const installation = await app.auth(7);
      const comment = github.addComment(owner, repo, pullNumber, '/vcluster status', 'dev');
      github.failNext({ method: 'POST', path: /\/reactions$/, status: 429, headers: { 'retry-after': '1' } });
      await reporter({ octokit: installation }).addReaction(comment.id);
      expect(github.callsTo('POST', /\/reactions$/).map((call) => call.status)).toEqual([429, 201]);
    });
  });

  describe('deployments', () => {
    it('starts a transient preview deployment in progress, once per commit', async () => {
      const id = await reporter().startDeployment(sha('a'));
      const again = await reporter().startDeployment(sha('a'));

      expect(again).toBe(id);
      const [deployment, ...others] = github.deployments(owner, repo).filter((entry) => entry.id === id);
      expect(others).toHaveLength(0);
      expect(deployment).toMatchObject({
        sha: sha('a'),
        environment: `preview/pr-${pullNumber}`,
        transient_environment: true,
        production_environment: false,
      });
      const created = github.callsTo('POST', `/repos/${owner}/${repo}/deployments`);
      expect(created).toHaveLength(1);
      expect(created[0]?.body).toMatchObject({ required_contexts: [], auto_merge: false, ref: sha('a') });
      expect(deployment?.statuses.map((status) => status.state)).toEqual(['in_progress', 'in_progress']);
    });

    it('finishes with the environment URL on success and the log URL on failure', async () => {
      const ok = await reporter().startDeployment(sha('a'));
      await reporter().finishDeployment(ok, { state: 'success', environmentUrl: 'https://pr.example.test' });
      const bad = await reporter().startDeployment(sha('b'));
      await reporter().finishDeployment(bad, { state: 'failure', logUrl: 'https://ci.example.test/log/1' });

      const byId = new Map(github.deployments(owner, repo).map((entry) => [entry.id, entry]));
      expect(byId.get(ok)?.statuses.at(-1)).toMatchObject({
        state: 'success',
        environment_url: 'https://pr.example.test',
      });
      expect(byId.get(bad)?.statuses.at(-1)).toMatchObject({
        state: 'failure',
        log_url: 'https://ci.example.test/log/1',
      });
    });

    it('deactivates every deployment of the environment, skipping those already inactive', async () => {
      const first = await reporter().startDeployment(sha('a'));
      await reporter().finishDeployment(first, {
        state: 'success',
        environmentUrl: 'https://pr.example.test',
      });
      const second = await reporter().startDeployment(sha('b'));
      await reporter().finishDeployment(second, {
        state: 'success',
        environmentUrl: 'https://pr.example.test',
      });
      const elsewhere = await reporter().startDeployment(sha('c'), 'preview/other');

      expect(await reporter().deactivateDeployments()).toBe(2);
      expect(await reporter().deactivateDeployments()).toBe(0);

      const byId = new Map(github.deployments(owner, repo).map((entry) => [entry.id, entry]));
      for (const id of [first, second]) {
        expect(byId.get(id)?.statuses.map((status) => status.state)).toEqual([
          'in_progress',
          'success',
          'inactive',
        ]);
      }
      expect(byId.get(elsewhere)?.statuses.map((status) => status.state)).toEqual(['in_progress']);
    });
  });
});
