import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { containersOf, rulesMentioning, runningContainersOf, vethsOf } from '../support/real-node.ts';
import { issueCommentEvent, type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'hello';
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 180_000, intervalMs: 500 };

/**
 * A pull request's preview on the real node, as its author sees it: the URL in the sticky comment
 * opens the example's page, served by real containers through the ingress controller, and shows the
 * pull request's commit; a push changes the page; a reset serves again from a new cluster; closing
 * stops the URL and leaves no container, sandbox, interface or iptables rule of the preview.
 */
describe('a pull request preview on the real node', () => {
  let flow: PreviewFlow;
  const hostKubeconfig = inject('realHostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const ingressUrl = new URL(inject('ingressUrl'));
  const node = inject('realNode');

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig,
      ingressUrl: ingressUrl.href,
      redisUrl: inject('redisUrl'),
      provider: 'local',
      deployTimeoutMs: PREVIEW_WAIT.timeoutMs,
    });
  });

  afterAll(async () => {
    await flow?.stop();
  });

  it('opened → the URL answers with the commit; push → the new commit; reset → serves again; closed → nothing left', async () => {
    const { github, post } = flow;
    // Pods of earlier tests may still be going away: only new interfaces count.
    const vethsBefore = vethsOf(node);
    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 1, headSha: sha('a') };
    await seedExample(github, OWNER, REPO, pr.headSha);
    github.addPullRequest(pr);
    expect((await post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);

    const status = await flow.successFor(1, pr.headSha);
    const url = status.environment_url!;
    expect(url).toMatch(
      new RegExp(`^http://pr-1-[a-z0-9-]*hello[a-z0-9-]*\\.preview\\.localhost:${ingressUrl.port}$`),
    );
    expect(flow.stickyBody(1)).toContain(url);
    expect(await flow.pageShowing(url, pr.headSha)).toContain('Hello from pull request #1');
    const [namespace] = (
      await host.core.listNamespace({ labelSelector: 'vcluster-preview.dev/pull-request=1' })
    ).items.map((ns) => ns.metadata!.name!);
    expect(namespace).toBeDefined();
    // Real containers: the app's two replicas run on the real node.
    const pods = await host.core.listNamespacedPod({ namespace: namespace! });
    const app = pods.items.filter((p) =>
      p.metadata?.annotations?.['vcluster.loft.sh/object-name']?.startsWith('hello-'),
    );
    expect(app.map((p) => [p.status?.phase, p.spec?.nodeName])).toEqual([
      ['Running', 'real-node'],
      ['Running', 'real-node'],
    ]);
    expect(containersOf(node, namespace!).length).toBeGreaterThanOrEqual(4);

    const pushed = { ...pr, headSha: sha('b') };
    await seedExample(github, OWNER, REPO, pushed.headSha);
    github.updatePullRequest(OWNER, REPO, 1, { headSha: pushed.headSha });
    await post('pull_request', pullRequestEvent('synchronize', pushed, { before: pr.headSha }));
    await flow.successFor(1, pushed.headSha);
    expect(await flow.pageShowing(url, pushed.headSha)).not.toContain(pr.headSha);

    const virtual = await flow.virtual(1);
    await virtual.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'left-behind' } },
    });
    const before = flow.successesOf(pushed.headSha);
    const stored = github.addComment(OWNER, REPO, 1, '/vcluster reset', 'maintainer');
    await post(
      'issue_comment',
      issueCommentEvent(pushed, { body: '/vcluster reset', sender: 'maintainer', commentId: stored.id }),
    );
    await waitUntil(async () => flow.successesOf(pushed.headSha) > before || undefined, {
      what: 'the reset deployed',
      ...PREVIEW_WAIT,
    });
    const fresh = await flow.virtual(1);
    expect(
      await isGone(() => fresh.core.readNamespacedConfigMap({ name: 'left-behind', namespace: 'default' })),
    ).toBe(true);
    expect(await flow.pageShowing(url, pushed.headSha)).toContain('Hello from pull request #1');

    await post('pull_request', pullRequestEvent('closed', pushed));
    await waitUntil(() => isGone(() => host.core.readNamespace({ name: namespace! })), {
      what: `preview namespace ${namespace} deleted`,
      ...PREVIEW_WAIT,
    });
    expect((await flow.open(url)).status).toBe(404);
    await waitUntil(async () => runningContainersOf(node, namespace!).length === 0, {
      what: 'the preview containers and sandboxes stopped',
      timeoutMs: 60_000,
    });
    await waitUntil(async () => vethsOf(node).every((veth) => vethsBefore.includes(veth)), {
      what: 'the preview pods’ veth interfaces removed',
      timeoutMs: 30_000,
    });
    await waitUntil(async () => rulesMentioning(node, namespace!).length === 0, {
      what: 'the preview Services’ iptables rules removed',
      timeoutMs: 30_000,
    });
  }, 420_000);
});
