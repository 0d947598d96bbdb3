import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PreviewJob } from '../../app/queue/preview-job.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import type { Reconcile } from '../../app/queue/preview-worker.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { serviceEnv } from '../support/preview-service.ts';
import {
  issueCommentEvent,
  type PullRequestSpec,
  postWebhook,
  pullRequestEvent,
} from '../support/webhooks.ts';

const redisUrl = inject('redisUrl');
const SECRET = `whsec-${randomBytes(8).toString('hex')}`;
const silent = pino({ level: 'silent' });

const OWNER = 'acme';
const REPO = 'shop';
const sha = (seed: string) => seed.repeat(40).slice(0, 40);

let github: GitHubDouble;
beforeAll(async () => {
  github = await startGitHubDouble();
  github.addRepo(OWNER, REPO, { installationId: 1 });
  github.setPermission(OWNER, REPO, 'writer', 'write');
  github.setPermission(OWNER, REPO, 'maintainer', 'maintain');
  github.setPermission(OWNER, REPO, 'reader', 'read');
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
/** A fresh pull request in the double (each test its own number, so their jobs never meet). */
const openPullRequest = (spec: Partial<PullRequestSpec> = {}): PullRequestSpec => {
  const full: PullRequestSpec = { owner: OWNER, repo: REPO, number: nextPr++, headSha: sha('a'), ...spec };
  github.addPullRequest(full);
  return full;
};

async function start(role: 'web' | 'all' = 'web', reconcile?: Reconcile) {
  const queueName = `test-webhooks-${randomBytes(4).toString('hex')}`;
  const service: RunningService = await startService({
    role,
    env: await serviceEnv({ github, redisUrl, webhookSecret: SECRET }),
    queueName,
    logger: silent,
    handleSignals: false,
    ...(reconcile ? { reconcile } : {}),
  });
  const queue = service.queue as PreviewQueue;
  cleanups.push(async () => {
    await queue.queue.obliterate({ force: true });
    await service.stop();
  });
  const post = (event: string, payload: unknown, options: { signature?: string } = {}) =>
    postWebhook(service.webhookUrl!, event, payload, SECRET, options);
  /** The desired states of the jobs not yet finished, oldest first. */
  const jobs = async (pr?: number): Promise<PreviewJob[]> => {
    const all = await queue.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    return all
      .map((job) => job.data)
      .filter((data) => pr === undefined || data.pr === pr)
      .sort((a, b) => a.pr - b.pr);
  };
  return { service, queue, post, jobs };
}

const desiredOf = (job: PreviewJob) =>
  'sha' in job.desired ? `${job.desired.kind}@${job.desired.sha}` : job.desired.kind;

/** Writes the comment into the double (so it can be reacted to) and posts its webhook. */
async function comment(
  post: Awaited<ReturnType<typeof start>>['post'],
  spec: PullRequestSpec,
  body: string,
  sender: string,
) {
  const stored = github.addComment(spec.owner, spec.repo, spec.number, body, sender);
  const response = await post(
    'issue_comment',
    issueCommentEvent(spec, { body, sender, commentId: stored.id }),
  );
  return { response, commentId: stored.id };
}

const repliesTo = (spec: PullRequestSpec) =>
  github
    .comments(spec.owner, spec.repo, spec.number)
    .filter((entry) => entry.user.login === 'vcluster-preview[bot]');

describe('the GitHub App over real webhooks', () => {
  it('opened → one job up@<head sha>, carrying installation, sender and delivery', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('1') });
    const response = await post('pull_request', pullRequestEvent('opened', pr));
    expect(response.status).toBe(200);
    const queued = await jobs(pr.number);
    expect(queued.map(desiredOf)).toEqual([`up@${sha('1')}`]);
    expect(queued[0]).toMatchObject({
      repo: `${OWNER}/${REPO}`,
      pr: pr.number,
      installationId: 1,
      requestedBy: OWNER,
      deliveryId: response.deliveryId,
    });
  });

  it('synchronize ×5 in a burst → one job at the newest sha', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('0') });
    const shas = ['1', '2', '3', '4', '5'].map(sha);
    // Sent one after another as fast as possible, as GitHub does on a quick series of pushes.
    for (const [index, headSha] of shas.entries()) {
      const response = await post(
        'pull_request',
        pullRequestEvent(
          'synchronize',
          { ...pr, headSha },
          { before: index === 0 ? sha('0') : shas[index - 1]! },
        ),
      );
      expect(response.status).toBe(200);
    }
    expect((await jobs(pr.number)).map(desiredOf)).toEqual([`up@${sha('5')}`]);
  });

  it('synchronize ×5 sent at the same moment → still one job, at one of the pushed shas', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('0') });
    const shas = ['6', '7', '8', '9', 'b'].map(sha);
    // Concurrent deliveries may be handled in any order; what must hold is one job for the pull request.
    const responses = await Promise.all(
      shas.map((headSha) => post('pull_request', pullRequestEvent('synchronize', { ...pr, headSha }))),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const queued = await jobs(pr.number);
    expect(queued).toHaveLength(1);
    expect(shas.map((headSha) => `up@${headSha}`)).toContain(desiredOf(queued[0]!));
  });

  it('/vcluster reset by a user with write → 👀 and a reset job', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('c') });
    const { response, commentId } = await comment(post, pr, '/vcluster reset', 'writer');
    expect(response.status).toBe(200);
    expect(github.reactions(OWNER, REPO, commentId).map((reaction) => reaction.content)).toEqual(['eyes']);
    expect(github.callsTo('GET', `/repos/${OWNER}/${REPO}/collaborators/writer/permission`)).toHaveLength(1);
    const queued = await jobs(pr.number);
    expect(queued.map(desiredOf)).toEqual([`reset@${sha('c')}`]);
    expect(queued[0]?.requestedBy).toBe('writer');
  });

  it('/vcluster reset by a read-only user → a polite refusal, nothing enqueued', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('d') });
    const { response, commentId } = await comment(post, pr, '/vcluster reset', 'reader');
    expect(response.status).toBe(200);
    expect(github.reactions(OWNER, REPO, commentId).map((reaction) => reaction.content)).toEqual(['eyes']);
    const replies = repliesTo(pr);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.body).toMatch(
      /@reader, sorry: `\/vcluster reset` can only be run by people with write/,
    );
    expect(replies[0]?.body).toMatch(/yours is read/);
    expect(await jobs(pr.number)).toEqual([]);
  });

  it('/vcluster help and unknown commands answer with the help text; /vcluster status with the queue place', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('e') });
    await comment(post, pr, '/vcluster frobnicate', 'reader');
    await post('pull_request', pullRequestEvent('opened', pr));
    await comment(post, pr, '/vcluster status', 'reader');
    const replies = repliesTo(pr).map((entry) => entry.body);
    expect(replies[0]).toMatch(/I don't know `\/vcluster frobnicate`/);
    expect(replies[0]).toContain('`/vcluster reset`');
    expect(replies[1]).toMatch(/waiting in the queue at place 1 of 1/);
    await comment(post, pr, '/vcluster help', 'reader');
    const help = repliesTo(pr).map((entry) => entry.body)[2];
    expect(help).toMatch(/^Here is what `\/vcluster` can do on this pull request:/);
    expect(help).toContain('`/vcluster reset`');
    expect((await jobs(pr.number)).map(desiredOf)).toEqual([`up@${sha('e')}`]);
  });

  it('/vcluster kubeconfig → how to get one through the Action, never a credential; nothing enqueued', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('9') });
    await comment(post, pr, '/vcluster kubeconfig', 'reader');
    await comment(post, pr, '/vcluster kubeconfig', 'writer');
    const [refused, answer] = repliesTo(pr).map((entry) => entry.body);
    expect(refused).toMatch(/@reader, sorry: `\/vcluster kubeconfig` can only be run by people with write/);
    expect(answer).toMatch(/^@writer, a kubeconfig is never posted on a pull request/);
    expect(answer).toContain('kubeconfig: true');
    expect(answer).not.toMatch(/certificate-authority-data|client-key|^\s*token:/m);
    expect(await jobs(pr.number)).toEqual([]);
  });

  it('fork pull request → no job and a sticky comment asking for approval; /vcluster approve → up@sha', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('f'), forkOwner: 'stranger', author: 'stranger' });
    expect((await post('pull_request', pullRequestEvent('opened', pr))).status).toBe(200);
    expect(await jobs(pr.number)).toEqual([]);
    const sticky = repliesTo(pr).filter((entry) => entry.body.startsWith(STICKY_MARKER));
    expect(sticky).toHaveLength(1);
    expect(sticky[0]?.body).toMatch(/Waiting for approval/);
    expect(sticky[0]?.body).toContain('/vcluster approve');

    // The fork's author cannot approve their own pull request.
    await comment(post, pr, '/vcluster approve', 'stranger');
    expect(await jobs(pr.number)).toEqual([]);

    const { response } = await comment(post, pr, '/vcluster approve', 'maintainer');
    expect(response.status).toBe(200);
    expect((await jobs(pr.number)).map(desiredOf)).toEqual([`up@${sha('f')}`]);

    // The approval holds for that commit only: a new push waits again, and the sticky comment says so.
    const pushed = { ...pr, headSha: sha('9') };
    github.updatePullRequest(OWNER, REPO, pr.number, { headSha: pushed.headSha });
    await post('pull_request', pullRequestEvent('synchronize', pushed));
    expect((await jobs(pr.number)).map(desiredOf)).toEqual([`up@${sha('f')}`]);
    const updated = repliesTo(pr).filter((entry) => entry.body.startsWith(STICKY_MARKER));
    expect(updated).toHaveLength(1);
    expect(updated[0]?.body).toContain('9999999');
  });

  it('a forged signature → 4xx and nothing enqueued', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('2') });
    const response = await post('pull_request', pullRequestEvent('opened', pr), {
      signature: `sha256=${'0'.repeat(64)}`,
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await jobs()).toEqual([]);
  });

  it('closed → a down job', async () => {
    const { post, jobs } = await start();
    const pr = openPullRequest({ headSha: sha('3') });
    await post('pull_request', pullRequestEvent('closed', { ...pr, merged: true }));
    expect((await jobs(pr.number)).map(desiredOf)).toEqual(['down']);
  });

  it('with the worker in the same process (role all), the job reaches the reconcile', async () => {
    const seen: PreviewJob[] = [];
    let done!: () => void;
    const reconciled = new Promise<void>((resolve) => {
      done = resolve;
    });
    const { post } = await start('all', async (job) => {
      seen.push(job);
      done();
    });
    const pr = openPullRequest({ headSha: sha('4') });
    await post('pull_request', pullRequestEvent('opened', pr));
    await reconciled;
    expect(seen.map(desiredOf)).toEqual([`up@${sha('4')}`]);
    expect(seen[0]?.pr).toBe(pr.number);
  });
});
