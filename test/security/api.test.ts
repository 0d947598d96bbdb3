import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { type ActionsTokenSpec, type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { serviceEnv } from '../support/preview-service.ts';

const OWNER = 'acme';
const REPO = 'api-fence';
const REPOSITORY = `${OWNER}/${REPO}`;
const sha = (seed: string) => seed.repeat(40).slice(0, 40);

/**
 * The service API, attacked through the real path (signed OIDC tokens of the GitHub double, the
 * running service, Redis): a workflow run that carries a pull request's input, a replayed token, a
 * stale commit and an actor without write are refused, each beside an honest request that works.
 */
describe('security: the service API', () => {
  let github: GitHubDouble;
  let service: RunningService;
  let pr = 0;

  beforeAll(async () => {
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    github.setPermission(OWNER, REPO, 'writer', 'write');
    github.setPermission(OWNER, REPO, 'reader', 'read');
    service = await startService({
      role: 'web',
      env: await serviceEnv({ github, redisUrl: inject('redisUrl'), webhookSecret: 'whsec' }),
      queueName: `security-api-${randomBytes(4).toString('hex')}`,
      logger: pino({ level: 'silent' }),
      handleSignals: false,
    });
  });
  afterAll(async () => {
    await service?.stop();
    await (service?.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    await github?.stop();
  });

  const openPullRequest = (headSha = sha('a')) => {
    pr += 1;
    github.addPullRequest({ owner: OWNER, repo: REPO, number: pr, headSha });
    return pr;
  };
  const token = (spec: Partial<ActionsTokenSpec> = {}) =>
    github.issueActionsToken({
      repository: REPOSITORY,
      actor: 'writer',
      audience: String(service.config.apiAudience),
      ...spec,
    });
  const ask = async (bearer: string, body: Record<string, unknown>) => {
    const response = await fetch(`${service.url}/api/v1/previews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { error?: string; hint?: string } };
  };

  it('takes requests only from pull_request runs, not from runs that carry a pull request’s input', async () => {
    const number = openPullRequest();
    for (const eventName of ['pull_request_target', 'issue_comment', 'workflow_run']) {
      const refused = await ask(token({ eventName }), { pullRequest: number });
      expect(refused.status, eventName).toBe(403);
      expect(refused.body.error).toContain(`a ${eventName} workflow run`);
      expect(refused.body.hint).toContain('on: pull_request');
    }
    expect((await ask(token(), { pullRequest: number })).status).toBe(202);
  });

  it('uses a token once: a replayed one is refused, a fresh one works', async () => {
    const number = openPullRequest(sha('b'));
    const captured = token();
    expect((await ask(captured, { pullRequest: number })).status).toBe(202);
    const replayed = await ask(captured, { pullRequest: number, action: 'reset' });
    expect(replayed.status).toBe(401);
    expect(replayed.body.error).toMatch(/was used for a preview request already/);
    expect((await ask(token(), { pullRequest: number, action: 'reset' })).status).toBe(202);
  });

  it('refuses a commit that is not the head, and a failed request leaves its token usable', async () => {
    const number = openPullRequest(sha('c'));
    const once = token();
    const stale = await ask(once, { pullRequest: number, sha: sha('d') });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toContain(`is not the head of ${REPOSITORY}#${number}`);
    expect((await ask(once, { pullRequest: number, sha: sha('c') })).status).toBe(202);
  });

  it('needs the permission the matching comment command needs: a reader’s run is refused', async () => {
    const number = openPullRequest(sha('e'));
    const refused = await ask(token({ actor: 'reader' }), { pullRequest: number });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe(`reader has read permission on ${REPOSITORY}; this needs write`);
    expect((await ask(token({ actor: 'writer' }), { pullRequest: number })).status).toBe(202);
  });

  it('takes only tokens asked for this installation: another service’s token is refused, and no audience takes none', async () => {
    const number = openPullRequest(sha('f'));
    const elsewhere = await ask(token({ audience: 'https://previews.other.example' }), {
      pullRequest: number,
    });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.error).toContain(
      `wrong audience "https://previews.other.example" (expected ${service.config.apiAudience})`,
    );
    expect((await ask(token(), { pullRequest: number })).status).toBe(202);

    // An installation without an audience of its own would take any service's tokens: it takes none.
    const { API_AUDIENCE: _unset, ...env } = await serviceEnv({
      github,
      redisUrl: inject('redisUrl'),
      webhookSecret: 'whsec',
    });
    const bare = await startService({
      role: 'web',
      env,
      queueName: `security-api-bare-${randomBytes(4).toString('hex')}`,
      logger: pino({ level: 'silent' }),
      handleSignals: false,
    });
    try {
      const response = await fetch(`${bare.url}/api/v1/previews`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
        body: JSON.stringify({ pullRequest: number }),
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: 'the service API is not set up: this installation has no API_AUDIENCE',
        hint: expect.stringContaining("sets API_AUDIENCE to the service's URL"),
      });
    } finally {
      await bare.stop();
      await (bare.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    }
  });
  it('limits calls per installation: past the limit 429 with retry-after, another installation is served', async () => {
    github.addRepo('bob', 'tool', { installationId: 2 });
    github.setPermission('bob', 'tool', 'writer', 'write');
    github.addPullRequest({ owner: 'bob', repo: 'tool', number: 1, headSha: sha('9') });
    const number = openPullRequest(sha('8'));
    const env = await serviceEnv({ github, redisUrl: inject('redisUrl'), webhookSecret: 'whsec' });
    const limited = await startService({
      role: 'web',
      env: { ...env, RATE_LIMIT_API_PER_MINUTE: '2' },
      queueName: `security-api-rate-${randomBytes(4).toString('hex')}`,
      logger: pino({ level: 'silent' }),
      handleSignals: false,
    });
    const call = async (repository: string, pullRequest: number) => {
      const response = await fetch(`${limited.url}/api/v1/previews`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token({ repository, audience: env.API_AUDIENCE })}`,
        },
        body: JSON.stringify({ pullRequest }),
      });
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: (await response.json()) as { error?: string },
      };
    };
    try {
      expect((await call(REPOSITORY, number)).status).toBe(202);
      expect((await call(REPOSITORY, number)).status).toBe(202);
      const third = await call(REPOSITORY, number);
      expect(third.status).toBe(429);
      expect(Number(third.retryAfter)).toBeGreaterThan(0);
      expect(third.body.error).toBe(
        'the repositories of acme called the service API more often than it allows in a minute',
      );
      expect((await call('bob/tool', 1)).status).toBe(202);
    } finally {
      await limited.stop();
      await (limited.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    }
  });
});
