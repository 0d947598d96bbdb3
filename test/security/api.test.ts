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
    github.issueActionsToken({ repository: REPOSITORY, actor: 'writer', ...spec });
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
});
