import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRunCompletedEvent,
  checkSuiteCompletedEvent,
  issueCommentEvent,
  type PullRequestAction,
  type PullRequestSpec,
  postWebhook,
  pullRequestEvent,
  recordedExample,
} from './webhooks.ts';

const recorded = (name: string, action: string) =>
  recordedExample<Record<string, Record<string, unknown>>>(name, action);
const keys = (value: unknown) => Object.keys(value as object).sort();

const secret = 'test-webhook-secret';
const spec: PullRequestSpec = {
  owner: 'acme',
  repo: 'shop',
  number: 42,
  headSha: 'b'.repeat(40),
  headRef: 'feature/login',
  author: 'dev',
  labels: ['preview'],
  installationId: 7,
};

describe('webhook deliveries', () => {
  let received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(202).end('accepted');
    });
  });
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs the exact bytes sent, so @octokit/webhooks-methods verifies them', async () => {
    received = [];
    const response = await postWebhook(url, 'pull_request', pullRequestEvent('opened', spec), secret);
    expect(response.status).toBe(202);
    const [delivery] = received;
    if (!delivery) throw new Error('nothing received');
    expect(delivery.headers).toMatchObject({
      'content-type': 'application/json',
      'x-github-event': 'pull_request',
      'x-github-delivery': response.deliveryId,
    });
    expect(delivery.headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
    const signature = String(delivery.headers['x-hub-signature-256']);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(await verify(secret, delivery.body, signature)).toBe(true);
    expect(await verify('another-secret', delivery.body, signature)).toBe(false);
    expect(JSON.parse(delivery.body)).toMatchObject({ action: 'opened', number: 42 });
  });

  it('sends a forged signature when asked, which does not verify', async () => {
    received = [];
    await postWebhook(url, 'pull_request', pullRequestEvent('opened', spec), secret, {
      signature: `sha256=${'0'.repeat(64)}`,
    });
    const delivery = received[0]!;
    expect(await verify(secret, delivery.body, String(delivery.headers['x-hub-signature-256']))).toBe(false);
  });

  it.each<PullRequestAction>(['opened', 'synchronize', 'closed', 'reopened'])(
    'pull_request.%s keeps the recorded shape, retargeted',
    (action) => {
      const payload = pullRequestEvent(
        action,
        { ...spec, merged: action === 'closed' },
        { before: 'c'.repeat(40) },
      );
      const original = recorded('pull_request', action);
      const pr = payload.pull_request;

      // A delivery to the App carries `installation`; the repo is a user's, so no `organization`.
      expect(keys(payload)).toEqual(
        keys({ ...original, installation: {} }).filter((key) => key !== 'organization'),
      );
      expect(keys(pr)).toEqual(keys(original.pull_request));
      expect(keys(pr.head)).toEqual(keys((original.pull_request as Record<string, unknown>).head));
      expect(keys(pr.base.repo)).toEqual(keys(original.repository));
      expect(keys(payload.sender)).toEqual(keys(original.sender));

      expect(payload).toMatchObject({
        action,
        number: 42,
        installation: { id: 7 },
        repository: { name: 'shop', full_name: 'acme/shop', owner: { login: 'acme' }, fork: false },
        sender: { login: 'dev', type: 'User' },
      });
      expect(pr).toMatchObject({
        number: 42,
        state: action === 'closed' ? 'closed' : 'open',
        merged: action === 'closed',
        html_url: 'https://github.com/acme/shop/pull/42',
        user: { login: 'dev' },
        labels: [{ name: 'preview' }],
        head: {
          sha: spec.headSha,
          ref: 'feature/login',
          label: 'acme:feature/login',
          repo: { full_name: 'acme/shop' },
        },
        base: { repo: { full_name: 'acme/shop' } },
      });
      if (action === 'synchronize')
        expect(payload).toMatchObject({ before: 'c'.repeat(40), after: spec.headSha });
      // Nothing of the recorded repository, people or commit is left over.
      expect(JSON.stringify(payload)).not.toMatch(/Codertocat|Hello-World|ec26c3e57ca3a959/);
    },
  );

  it('marks a fork: head in the contributor’s repository, base in ours', () => {
    const payload = pullRequestEvent('opened', { ...spec, forkOwner: 'outsider', author: 'outsider' });
    expect(payload.pull_request.head).toMatchObject({
      label: 'outsider:feature/login',
      user: { login: 'outsider' },
      repo: { full_name: 'outsider/shop', fork: true, owner: { login: 'outsider' } },
    });
    expect(payload.pull_request.base.repo).toMatchObject({ full_name: 'acme/shop', fork: false });
    expect(payload.pull_request.head.repo?.id).not.toBe(payload.pull_request.base.repo.id);
  });

  it('issue_comment.created is a comment on the pull request, by the sender', () => {
    const payload = issueCommentEvent(spec, {
      body: '/vcluster reset',
      sender: 'maintainer',
      commentId: 555,
    });
    const original = recorded('issue_comment', 'created');
    expect(keys(payload.comment)).toEqual(keys(original.comment));
    expect(keys(payload.issue)).toEqual(keys({ ...original.issue, pull_request: {} }));
    expect(payload).toMatchObject({
      action: 'created',
      installation: { id: 7 },
      issue: {
        number: 42,
        state: 'open',
        user: { login: 'dev' },
        pull_request: { url: 'https://api.github.com/repos/acme/shop/pulls/42' },
      },
      comment: {
        id: 555,
        body: '/vcluster reset',
        user: { login: 'maintainer' },
        url: 'https://api.github.com/repos/acme/shop/issues/comments/555',
        html_url: 'https://github.com/acme/shop/pull/42#issuecomment-555',
      },
      sender: { login: 'maintainer' },
      repository: { full_name: 'acme/shop' },
    });
    expect(JSON.stringify(payload)).not.toMatch(/Codertocat|Hello-World/);
  });

  it('makes check_run.completed and check_suite.completed of the recorded shape, naming the pull request', () => {
    const run = checkRunCompletedEvent(
      {
        owner: 'acme',
        repo: 'shop',
        id: 99,
        name: 'build',
        headSha: spec.headSha,
        status: 'completed',
        conclusion: 'failure',
        pullRequests: [spec],
      },
      7,
    ) as unknown as Record<string, Record<string, unknown>>;
    const original = recorded('check_run', 'completed');
    expect(keys(run.check_run)).toEqual(keys(original.check_run));
    expect(run).toMatchObject({
      action: 'completed',
      installation: { id: 7 },
      check_run: {
        id: 99,
        name: 'build',
        head_sha: spec.headSha,
        status: 'completed',
        conclusion: 'failure',
        pull_requests: [{ number: 42, head: { sha: spec.headSha, ref: 'feature/login' } }],
      },
      repository: { full_name: 'acme/shop' },
    });
    const suite = checkSuiteCompletedEvent(
      { owner: 'acme', repo: 'shop', headSha: spec.headSha, pullRequests: [spec] },
      7,
    ) as unknown as Record<string, Record<string, unknown>>;
    expect(keys(suite.check_suite)).toEqual(keys(recorded('check_suite', 'completed').check_suite));
    expect(suite.check_suite).toMatchObject({
      head_sha: spec.headSha,
      conclusion: 'success',
      pull_requests: [{ number: 42 }],
    });
    expect(JSON.stringify([run, suite])).not.toMatch(/Codertocat|Hello-World/);
  });
});
