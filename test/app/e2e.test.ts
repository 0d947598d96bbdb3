import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import type { IssueComment } from '../support/github-double.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { issueCommentEvent, type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'hello';
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 120_000, intervalMs: 250 };

/**
 * The whole way, as a user sees it: signed webhooks posted to the running service (web + worker in
 * one process, the real reconciler and the local provider), real virtual clusters in the test host
 * cluster, and what lands on the pull request in the GitHub double.
 */
describe('the GitHub App end to end', () => {
  let flow: PreviewFlow;
  const host = kubeClients(inject('hostKubeconfig'));

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
      permissions: { reader: 'read' },
    });
  });

  afterAll(async () => {
    await flow?.stop();
  });

  const sticky = (pr: number): IssueComment[] => flow.stickyComments(pr);
  const replies = (pr: number): IssueComment[] =>
    flow.github.comments(OWNER, REPO, pr).filter((c) => !c.body.startsWith(STICKY_MARKER));
  const waitForSticky = (pr: number, what: string, matches: (body: string) => boolean) =>
    waitUntil(async () => sticky(pr).find((c) => matches(c.body)), {
      what: `PR #${pr}: the sticky comment ${what}`,
      ...PREVIEW_WAIT,
    });
  const deploymentsOf = (pr: number) =>
    flow.github.deployments(OWNER, REPO).filter((d) => d.environment === `preview/pr-${pr}`);
  const pendingJobs = async (pr: number) =>
    (await flow.service.queue!.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized'])).filter(
      (job) => job.data.pr === pr,
    );
  const openPullRequest = async (spec: Omit<PullRequestSpec, 'owner' | 'repo'>) => {
    const full = { owner: OWNER, repo: REPO, ...spec };
    await seedExample(flow.github, OWNER, REPO, spec.headSha);
    flow.github.addPullRequest(full);
    const response = await flow.post('pull_request', pullRequestEvent('opened', full));
    expect(response.status).toBeLessThan(300);
    return full;
  };
  /** Writes the comment into the double (so it can be reacted to) and posts its webhook. */
  const comment = async (spec: PullRequestSpec, body: string, sender: string) => {
    const stored = flow.github.addComment(OWNER, REPO, spec.number, body, sender);
    const response = await flow.post(
      'issue_comment',
      issueCommentEvent(spec, { body, sender, commentId: stored.id }),
    );
    expect(response.status).toBeLessThan(300);
  };
  const successes = (pr: number) => deploymentsOf(pr).filter((d) => d.statuses.at(-1)?.state === 'success');

  it('opened → the URL in the sticky comment and a successful deployment; closed → all of it torn down', async () => {
    const pr = await openPullRequest({ number: 7, headSha: sha('1') });

    const comment = await waitForSticky(7, 'with the preview URL', (body) => body.includes('https://pr-7-'));
    expect(comment.body).toMatch(/https:\/\/pr-7-[a-z0-9-]*hello[a-z0-9-]*\.preview\.test/);
    const deployment = await waitUntil(async () => successes(7)[0], {
      what: 'a successful deployment status',
    });
    expect(deployment.environment).toBe('preview/pr-7');
    expect(deployment.statuses.at(-1)?.environment_url).toMatch(/^https:\/\/pr-7-/);
    const namespaces = await flow.hostNamespaces(7);
    expect(namespaces).toHaveLength(1);
    const namespace = namespaces[0]!.metadata!.name!;

    expect((await flow.post('pull_request', pullRequestEvent('closed', pr))).status).toBeLessThan(300);
    await waitUntil(() => isGone(() => host.core.readNamespace({ name: namespace })), {
      what: `preview namespace ${namespace} deleted`,
      ...PREVIEW_WAIT,
    });
    await waitUntil(async () => deploymentsOf(7)[0]?.statuses.at(-1)?.state === 'inactive', {
      what: 'the deployment marked inactive',
    });
    await waitForSticky(7, 'saying destroyed', (body) => /destroyed/i.test(body));
    expect(sticky(7)).toHaveLength(1);
  });

  it('synchronize ×5 in a burst → one or two deploys, the last at the newest commit', async () => {
    const first = await openPullRequest({ number: 8, headSha: sha('2') });
    await waitUntil(async () => successes(8)[0], { what: 'the first deploy', ...PREVIEW_WAIT });
    const before = deploymentsOf(8).length;

    const pushes = ['3', '4', '5', '6', '7'].map((seed) => sha(seed));
    for (const [index, head] of pushes.entries()) {
      await seedExample(flow.github, OWNER, REPO, head);
      const spec = { ...first, headSha: head };
      flow.github.updatePullRequest(OWNER, REPO, 8, { headSha: head });
      const response = await flow.post(
        'pull_request',
        pullRequestEvent('synchronize', spec, { before: index === 0 ? first.headSha : pushes[index - 1] }),
      );
      expect(response.status).toBeLessThan(300);
    }
    const newest = pushes.at(-1)!;
    const deployed = await waitUntil(
      async () => deploymentsOf(8).find((d) => d.sha === newest && d.statuses.at(-1)?.state === 'success'),
      { what: 'a successful deploy of the newest commit', ...PREVIEW_WAIT },
    );
    expect(await pendingJobs(8)).toEqual([]);
    const burstDeploys = deploymentsOf(8).slice(before);
    expect(burstDeploys.length).toBeGreaterThanOrEqual(1);
    expect(burstDeploys.length).toBeLessThanOrEqual(2);
    expect(burstDeploys.at(-1)?.id).toBe(deployed.id);
    const [namespace] = await flow.hostNamespaces(8);
    expect(namespace?.metadata?.annotations?.['vcluster-preview.dev/commit']).toBe(newest);
    expect(sticky(8)).toHaveLength(1);
    expect(sticky(8)[0]?.body).toContain(newest.slice(0, 7));
  });

  it('/vcluster reset: refused for a read-only user with nothing changed; a maintainer gets a new, empty cluster with the app', async () => {
    const pr = await openPullRequest({ number: 9, headSha: sha('8') });
    await waitUntil(async () => successes(9)[0], { what: 'the first deploy', ...PREVIEW_WAIT });
    const virtual = await flow.virtual(9);
    await virtual.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'left-by-a-reviewer' }, data: { note: 'gone after a reset' } },
    });

    await comment(pr, '/vcluster reset', 'reader');
    const refusal = replies(9).find((c) => c.body.includes('@reader'));
    expect(refusal?.body).toMatch(/can only be run by people with write, maintain or admin permission/);
    expect(await pendingJobs(9)).toHaveLength(0);
    expect(deploymentsOf(9)).toHaveLength(1);
    const kept = await virtual.core.readNamespacedConfigMap({
      name: 'left-by-a-reviewer',
      namespace: 'default',
    });
    expect(kept.data?.note).toBe('gone after a reset');

    await comment(pr, '/vcluster reset', 'maintainer');
    // The same commit keeps its GitHub Deployment; the reset adds a second success status to it.
    const successStatuses = () =>
      deploymentsOf(9)
        .flatMap((d) => d.statuses)
        .filter((status) => status.state === 'success').length;
    await waitUntil(async () => successStatuses() === 2 || undefined, {
      what: 'a second successful deploy after the reset',
      ...PREVIEW_WAIT,
    });
    const fresh = await flow.virtual(9);
    const gone = await isGone(() =>
      fresh.core.readNamespacedConfigMap({ name: 'left-by-a-reviewer', namespace: 'default' }),
    );
    expect(gone).toBe(true);
    const app = await fresh.apps.listDeploymentForAllNamespaces();
    expect(app.items.map((d) => d.metadata?.name)).toContain('hello');
    expect(await flow.hostNamespaces(9)).toHaveLength(1);
    expect(sticky(9)).toHaveLength(1);
  });

  it('a fork: nothing deployed until a maintainer approves the commit, then the preview comes up', async () => {
    await seedExample(flow.github, OWNER, REPO, 'main');
    const pr = await openPullRequest({
      number: 10,
      headSha: sha('a'),
      forkOwner: 'stranger',
      author: 'stranger',
      baseRef: 'main',
    });
    await waitForSticky(10, 'asking for approval', (body) => body.includes('/vcluster approve'));
    expect(await pendingJobs(10)).toEqual([]);
    expect(await flow.hostNamespaces(10)).toEqual([]);
    expect(deploymentsOf(10)).toEqual([]);

    await comment(pr, '/vcluster approve', 'maintainer');
    await waitForSticky(10, 'with the preview URL', (body) => body.includes('https://pr-10-'));
    expect(await flow.hostNamespaces(10)).toHaveLength(1);
    expect(deploymentsOf(10).map((d) => d.sha)).toEqual([sha('a')]);
  });

  it('a bad config → one clear error in the sticky comment, no retry, no virtual cluster left', async () => {
    const head = sha('b');
    await seedExample(flow.github, OWNER, REPO, head);
    flow.github.setFile(
      OWNER,
      REPO,
      head,
      '.github/vcluster-preview.yml',
      'manifest: deploy/\nexpose:\n  service: hello\n  port: 80\n',
    );
    const spec = { owner: OWNER, repo: REPO, number: 11, headSha: head };
    flow.github.addPullRequest(spec);
    expect((await flow.post('pull_request', pullRequestEvent('opened', spec))).status).toBeLessThan(300);

    const failed = await waitForSticky(11, 'with the error', (body) => body.includes('Preview failed'));
    expect(failed.body).toContain('.github/vcluster-preview.yml:1');
    expect(failed.body).toMatch(/manifest: unknown field \(did you mean manifests\?\)/);
    expect(failed.body).not.toContain('retrying');
    await waitUntil(async () => (await pendingJobs(11)).length === 0 || undefined, {
      what: 'the job ended',
    });
    expect(await flow.hostNamespaces(11)).toEqual([]);
    expect(sticky(11)).toHaveLength(1);
    expect(deploymentsOf(11).at(-1)?.statuses.at(-1)?.state).toBe('failure');
  });
});
