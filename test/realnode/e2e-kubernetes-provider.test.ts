import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { kubernetesProvider } from '../../preview/providers/kubernetes/provider.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { rulesMentioning, runningContainersOf, vethsOf } from '../support/real-node.ts';
import { issueCommentEvent, type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'chart';
const REPO = 'hello';
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
// The chart's control plane starts in a pod: image pulls from the local registry, etcd's volume,
// the API server and the syncer, then the app's own pods.
const PREVIEW_WAIT = { timeoutMs: 300_000, intervalMs: 1000 };

/**
 * A pull request's preview through the `kubernetes` provider on the real node, as its author sees
 * it: the service's worker installs `charts/vcluster` in the preview's host namespace, whose control
 * plane (etcd on a volume of the host's default StorageClass, kube-apiserver,
 * kube-controller-manager) and syncer run as real containers; the URL in the sticky comment shows
 * the pull request's commit; a push changes the page; a reset serves again from a new cluster;
 * closing stops the URL and leaves no container, volume, interface or iptables rule of the preview.
 */
describe('a pull request preview through the kubernetes provider on the real node', () => {
  let flow: PreviewFlow;
  const hostKubeconfig = inject('realHostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const ingressUrl = new URL(inject('ingressUrl'));
  const node = inject('realNode');
  const preview = previewName(`${OWNER}/${REPO}`, 1);
  // The provider as a person on this machine uses it (`vcluster-preview connect`).
  const provider = kubernetesProvider({ hostKubeconfig, helmBinary: join(inject('binDir'), 'helm') });

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig,
      ingressUrl: ingressUrl.href,
      redisUrl: inject('redisUrl'),
      provider: 'kubernetes',
      deployTimeoutMs: PREVIEW_WAIT.timeoutMs,
    });
  });

  afterAll(async () => {
    await flow?.stop();
    // After a failure: nothing of the preview stays on the shared host.
    await provider.delete(preview).catch(() => {});
  });

  const volumesOf = async (namespace: string) =>
    (await host.core.listPersistentVolume()).items.filter((pv) => pv.spec?.claimRef?.namespace === namespace);
  /** The chart's control plane pod: its containers' names and where it runs. */
  const controlPlaneOf = async (namespace: string) => {
    const pods = await host.core.listNamespacedPod({
      namespace,
      labelSelector: `app=vcluster,release=${preview.name}`,
    });
    return pods.items.map((pod) => ({
      node: pod.spec?.nodeName,
      phase: pod.status?.phase,
      containers: (pod.status?.containerStatuses ?? [])
        .filter((s) => s.ready && s.state?.running)
        .map((s) => s.name)
        .sort(),
    }));
  };

  it('opened → the URL answers with the commit; push → the new commit; reset → serves again; closed → nothing left', async () => {
    const { github, post } = flow;
    // Pods of earlier tests may still be going away: only new interfaces count.
    const vethsBefore = vethsOf(node);
    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 1, headSha: sha('c') };
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
    const namespace = preview.namespace;
    const ns = await host.core.readNamespace({ name: namespace });
    expect(ns.metadata?.labels).toMatchObject({
      'vcluster-preview.dev/provider': 'kubernetes',
      'vcluster-preview.dev/pull-request': '1',
    });
    // The chart's control plane and syncer run as real containers on the real node…
    expect(await controlPlaneOf(namespace)).toEqual([
      {
        node: 'real-node',
        phase: 'Running',
        containers: ['etcd', 'kube-apiserver', 'kube-controller-manager', 'syncer'],
      },
    ]);
    // …with etcd on a volume of the host's default StorageClass.
    expect((await volumesOf(namespace)).map((pv) => pv.spec?.storageClassName)).toEqual(['local-path']);
    // …and so do the app's two replicas, synced down by it.
    const pods = await host.core.listNamespacedPod({ namespace });
    const app = pods.items.filter((p) =>
      p.metadata?.annotations?.['vcluster.loft.sh/object-name']?.startsWith('hello-'),
    );
    expect(app.map((p) => [p.status?.phase, p.spec?.nodeName])).toEqual([
      ['Running', 'real-node'],
      ['Running', 'real-node'],
    ]);

    const pushed = { ...pr, headSha: sha('d') };
    await seedExample(github, OWNER, REPO, pushed.headSha);
    github.updatePullRequest(OWNER, REPO, 1, { headSha: pushed.headSha });
    await post('pull_request', pullRequestEvent('synchronize', pushed, { before: pr.headSha }));
    await flow.successFor(1, pushed.headSha);
    expect(await flow.pageShowing(url, pushed.headSha)).not.toContain(pr.headSha);

    const virtual = kubeClients(await provider.kubeconfig(preview));
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
    // A fresh cluster: what was made in the old one is gone (its etcd volume went with it).
    const fresh = kubeClients(await provider.kubeconfig(preview));
    expect(
      await isGone(() => fresh.core.readNamespacedConfigMap({ name: 'left-behind', namespace: 'default' })),
    ).toBe(true);
    expect(await flow.pageShowing(url, pushed.headSha)).toContain('Hello from pull request #1');

    await post('pull_request', pullRequestEvent('closed', pushed));
    await waitUntil(() => isGone(() => host.core.readNamespace({ name: namespace })), {
      what: `preview namespace ${namespace} deleted`,
      ...PREVIEW_WAIT,
    });
    expect((await flow.open(url)).status).toBe(404);
    await waitUntil(async () => runningContainersOf(node, namespace).length === 0, {
      what: 'the preview containers and sandboxes stopped',
      timeoutMs: 90_000,
    });
    await waitUntil(async () => (await volumesOf(namespace)).length === 0, {
      what: 'the preview’s volumes deleted',
      timeoutMs: 90_000,
    });
    await waitUntil(async () => vethsOf(node).every((veth) => vethsBefore.includes(veth)), {
      what: 'the preview pods’ veth interfaces removed',
      timeoutMs: 30_000,
    });
    await waitUntil(async () => rulesMentioning(node, namespace).length === 0, {
      what: 'the preview Services’ iptables rules removed',
      timeoutMs: 30_000,
    });
  }, 900_000);
});
