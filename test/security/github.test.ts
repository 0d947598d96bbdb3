import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { serviceLogger } from '../../app/logger.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { MAX_REQUEST_BYTES } from '../../app/request-size-guard.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { isStickyComment } from '../../app/sticky-comment.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { serviceEnv } from '../support/preview-service.ts';
import { issueCommentEvent, postWebhook, pullRequestEvent, userObject } from '../support/webhooks.ts';

const SECRET = `whsec-${randomBytes(8).toString('hex')}`;
const OWNER = 'acme';
const REPO = 'shop';

/**
 * The GitHub side, attacked through the real path (signed webhooks and API calls to the running
 * service, the GitHub double, Redis): what someone who can comment, resend a captured delivery or
 * send large requests can do, refused, beside honest requests that work.
 */
describe('security: the GitHub side', () => {
  let github: GitHubDouble;
  let service: RunningService;
  const logLines: string[] = [];

  beforeAll(async () => {
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    github.setPermission(OWNER, REPO, 'maintainer', 'maintain');
    const env = await serviceEnv({ github, redisUrl: inject('redisUrl'), webhookSecret: SECRET });
    service = await startService({
      role: 'web',
      env,
      queueName: `security-github-${randomBytes(4).toString('hex')}`,
      logger: serviceLogger('info', { write: (line: string) => void logLines.push(line) }),
      handleSignals: false,
    });
  });

  afterAll(async () => {
    await service?.stop();
    await (service?.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    await github?.stop();
  });

  const post = (event: string, payload: unknown, deliveryId?: string) =>
    postWebhook(service.webhookUrl!, event, payload, SECRET, deliveryId ? { deliveryId } : {});

  it('edits only its own sticky comment: a marker planted by a person or by another App is left alone', async () => {
    const pr = { owner: OWNER, repo: REPO, number: 1, headSha: 'a'.repeat(40), forkOwner: 'mallory' };
    github.addPullRequest(pr);
    const planted = github.addComment(
      OWNER,
      REPO,
      1,
      '<!-- vcluster-preview:sticky -->\n## ✅ Preview ready\n**Preview:** https://evil.example.com',
      'mallory',
    );
    const otherApp = github.addComment(
      OWNER,
      REPO,
      1,
      '<!-- vcluster-preview:sticky -->\nanother App',
      'other-app[bot]',
    );
    otherApp.user = userObject('other-app[bot]');
    otherApp.performed_via_github_app = { id: 999, slug: 'other-app', name: 'other-app' };
    // A fork's pull request: the service writes "waiting for approval" in its sticky comment.
    expect((await post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    const ours = await waitUntil(
      async () =>
        github
          .comments(OWNER, REPO, 1)
          .find(
            (c) =>
              isStickyComment(c.body) &&
              c.performed_via_github_app?.id === 1 &&
              c.user.login === 'vcluster-preview[bot]',
          ),
      { what: 'the App’s own sticky comment' },
    );
    expect(ours.body).toMatch(/approve/i);
    const byId = (id: number) => github.comments(OWNER, REPO, 1).find((c) => c.id === id);
    expect(byId(planted.id)?.body).toContain('https://evil.example.com');
    expect(byId(otherApp.id)?.body).toContain('another App');
  });

  it('handles a replayed delivery once', async () => {
    const pr = { owner: OWNER, repo: REPO, number: 2, headSha: 'b'.repeat(40) };
    github.addPullRequest(pr);
    const comment = github.addComment(OWNER, REPO, 2, '/vcluster help', 'maintainer');
    const event = issueCommentEvent(pr, {
      body: '/vcluster help',
      sender: 'maintainer',
      commentId: comment.id,
    });
    const deliveryId = `delivery-${randomBytes(6).toString('hex')}`;
    const replies = () =>
      github.comments(OWNER, REPO, 2).filter((c) => c.user.login === 'vcluster-preview[bot]');
    expect((await post('issue_comment', event, deliveryId)).status).toBeLessThan(300);
    await waitUntil(async () => replies().length === 1 || undefined, { what: 'the help reply' });
    // The same signed request again: accepted (GitHub would otherwise retry it), and nothing done.
    expect((await post('issue_comment', event, deliveryId)).status).toBeLessThan(300);
    // An honest second comment, a new delivery: answered.
    expect((await post('issue_comment', event)).status).toBeLessThan(300);
    await waitUntil(async () => replies().length === 2 || undefined, { what: 'the second help reply' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(replies()).toHaveLength(2);
  });

  it('echoes a command’s text as one code span: nothing in it becomes a link, an image or a mention', async () => {
    const pr = { owner: OWNER, repo: REPO, number: 3, headSha: 'c'.repeat(40) };
    github.addPullRequest(pr);
    const hostile = '/vcluster `x` @maintainer ![t](https://evil.example/p.png)';
    const comment = github.addComment(OWNER, REPO, 3, hostile, 'mallory');
    const event = issueCommentEvent(pr, { body: hostile, sender: 'mallory', commentId: comment.id });
    expect((await post('issue_comment', event)).status).toBeLessThan(300);
    const reply = await waitUntil(
      async () => github.comments(OWNER, REPO, 3).find((c) => c.user.login === 'vcluster-preview[bot]'),
      { what: 'the reply to the unknown command' },
    );
    // The whole text sits inside a fence of two backticks, which its single backticks cannot close.
    expect(reply.body).toContain(
      "@mallory, I don't know ``/vcluster `x` @maintainer ![t](https://evil.example/p.png)``.",
    );
    // An honest unknown command reads as before.
    const honest = github.addComment(OWNER, REPO, 3, '/vcluster frobnicate', 'mallory');
    await post(
      'issue_comment',
      issueCommentEvent(pr, { body: '/vcluster frobnicate', sender: 'mallory', commentId: honest.id }),
    );
    await waitUntil(
      async () =>
        github
          .comments(OWNER, REPO, 3)
          .some(
            (c) =>
              c.user.login === 'vcluster-preview[bot]' &&
              c.body.includes("I don't know `/vcluster frobnicate`."),
          ) || undefined,
      { what: 'the honest reply' },
    );
  });

  it('approves the head a maintainer saw: a push after the comment, its webhook not yet in, is not approved', async () => {
    const first = 'd'.repeat(40);
    const pushed = 'e'.repeat(40);
    const pr = { owner: OWNER, repo: REPO, number: 4, headSha: first, forkOwner: 'mallory' };
    github.addPullRequest(pr);
    expect((await post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    const jobs = async () =>
      (await (service.queue as PreviewQueue).queue.getJobs(['waiting', 'delayed', 'active']))
        .map((job) => job.data)
        .filter((data) => data.pr === 4 && data.desired.kind === 'up');
    const replies = () =>
      github
        .comments(OWNER, REPO, 4)
        .filter((c) => c.user.login === 'vcluster-preview[bot]' && !isStickyComment(c.body));
    // The maintainer comments; a second later the fork pushes, and its webhook has not come yet.
    const approval = github.addComment(OWNER, REPO, 4, '/vcluster approve', 'maintainer');
    const seen = issueCommentEvent(pr, {
      body: '/vcluster approve',
      sender: 'maintainer',
      commentId: approval.id,
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    github.updatePullRequest(OWNER, REPO, 4, { headSha: pushed });
    expect((await post('issue_comment', seen)).status).toBeLessThan(300);
    const refused = await waitUntil(async () => replies()[0], { what: 'the reply to the late approval' });
    expect(refused.body).toContain('the pull request was pushed to after your comment');
    expect(refused.body).toContain(`/vcluster approve ${pushed}`);
    expect(await jobs()).toEqual([]);
    // Naming the commit approves it.
    const named = github.addComment(OWNER, REPO, 4, `/vcluster approve ${pushed}`, 'maintainer');
    await post(
      'issue_comment',
      issueCommentEvent(
        { ...pr, headSha: pushed },
        { body: `/vcluster approve ${pushed}`, sender: 'maintainer', commentId: named.id },
      ),
    );
    const approved = await waitUntil(async () => ((await jobs()).length > 0 ? await jobs() : undefined), {
      what: 'the up job of the approved commit',
    });
    expect(approved.map((job) => ('sha' in job.desired ? job.desired.sha : ''))).toEqual([pushed]);
  });

  it('refuses an oversized or unannounced body before reading it, and serves an honest one', async () => {
    const huge = { padding: 'x'.repeat(MAX_REQUEST_BYTES + 1) };
    const answer = await post('pull_request', huge);
    expect(answer.status).toBe(413);
    expect(answer.body).toMatch(/larger than \d+ bytes/);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        service.webhookUrl!,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"a":');
      req.end('1}');
    });
    expect(chunked).toBe(411);
    const pr = { owner: OWNER, repo: REPO, number: 3, headSha: 'c'.repeat(40) };
    github.addPullRequest(pr);
    expect((await post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
  });

  it('never writes a request’s credentials to its log', async () => {
    const token = `eyJ-secret-${randomBytes(8).toString('hex')}`;
    const res = await fetch(`${service.url}/api/v1/previews`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        cookie: `session=${token}`,
      },
      body: JSON.stringify({ pullRequest: 1 }),
    });
    expect(res.status).toBe(401);
    await waitUntil(async () => logLines.some((line) => line.includes('/api/v1/previews')) || undefined, {
      what: 'the request log line',
    });
    const log = logLines.join('');
    expect(log).not.toContain(token);
    expect(log).toContain('"authorization":"[redacted]"');
  });

  it('limits deliveries per installation: a flood is answered 429 and not handled, another installation is served', async () => {
    github.addRepo('bob', 'tool', { installationId: 2 });
    github.setPermission('bob', 'tool', 'bob', 'write');
    const env = await serviceEnv({ github, redisUrl: inject('redisUrl'), webhookSecret: SECRET });
    const limited = await startService({
      role: 'web',
      env: { ...env, RATE_LIMIT_WEBHOOKS_PER_MINUTE: '3' },
      queueName: `security-rate-${randomBytes(4).toString('hex')}`,
      logger: serviceLogger('silent'),
      handleSignals: false,
    });
    try {
      const flood = { owner: OWNER, repo: REPO, number: 4, headSha: 'd'.repeat(40) };
      const other = { owner: 'bob', repo: 'tool', number: 1, headSha: 'e'.repeat(40), installationId: 2 };
      github.addPullRequest(flood);
      github.addPullRequest(other);
      const help = (pr: typeof flood, sender: string) =>
        postWebhook(
          limited.webhookUrl!,
          'issue_comment',
          issueCommentEvent(pr, {
            body: '/vcluster help',
            sender,
            commentId: github.addComment(pr.owner, pr.repo, pr.number, '/vcluster help', sender).id,
          }),
          SECRET,
        );
      const replies = (pr: typeof flood) =>
        github.comments(pr.owner, pr.repo, pr.number).filter((c) => c.user.login === 'vcluster-preview[bot]');

      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await help(flood, 'maintainer'));
      expect(answers.slice(0, 3).map((answer) => answer.status)).toEqual([200, 200, 200]);
      expect(answers[3]?.status).toBe(429);
      expect(answers[3]?.body).toMatch(
        /installation 1 sent more than 3 webhook deliveries in a minute; this one was not handled: redeliver it/,
      );
      // Another installation's delivery is not held back by the flood.
      expect((await help(other, 'bob')).status).toBe(200);
      await waitUntil(async () => replies(other).length === 1 || undefined, { what: "bob's help reply" });
    } finally {
      await limited.stop();
      await (limited.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    }
  });
});
