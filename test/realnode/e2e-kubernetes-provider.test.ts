import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultReconciler } from '../../app/default-reconciler.ts';
import { previewName } from '../../app/desired-state.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { loadServiceConfig } from '../../app/service-config.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { kubernetesProvider } from '../../preview/providers/kubernetes.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { openThroughIngress } from '../support/ingress.ts';
import { seedExample, serviceEnv } from '../support/preview-service.ts';
import {
  issueCommentEvent,
  type PullRequestSpec,
  postWebhook,
  pullRequestEvent,
} from '../support/webhooks.ts';

const OWNER = 'chart';
const REPO = 'hello';
const SECRET = `whsec-${randomBytes(8).toString('hex')}`;
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
  let github: GitHubDouble;
  let service: RunningService;
  const hostKubeconfig = inject('realHostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const ingressUrl = new URL(inject('ingressUrl'));
  const node = inject('realNode');
  const preview = previewName(`${OWNER}/${REPO}`, 1);
  // The provider as a person on this machine uses it (`vcluster-preview connect`).
  const provider = kubernetesProvider({ hostKubeconfig, helmBinary: join(inject('binDir'), 'helm') });

  beforeAll(async () => {
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    github.setPermission(OWNER, REPO, 'maintainer', 'maintain');
    const env = {
      ...(await serviceEnv({ github, hostKubeconfig, redisUrl: inject('redisUrl'), webhookSecret: SECRET })),
      VCLUSTER_PROVIDER: 'kubernetes',
      BASE_DOMAIN: 'preview.localhost',
      PREVIEW_URL_SCHEME: 'http',
      PREVIEW_URL_PORT: ingressUrl.port,
    };
    const logger = pino({ level: process.env.E2E_LOG ?? 'silent' });
    service = await startService({
      role: 'all',
      env,
      reconcile: await defaultReconciler(loadServiceConfig(env, 'all'), logger),
      queueName: `real-e2e-chart-${randomBytes(4).toString('hex')}`,
      logger,
      handleSignals: false,
    });
  });

  afterAll(async () => {
    if (service) {
      await service.stop();
      await (service.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    }
    // After a failure: nothing of the preview stays on the shared host.
    await provider.delete(preview).catch(() => {});
    await github?.stop();
  });

  const post = (event: string, payload: unknown) => postWebhook(service.webhookUrl!, event, payload, SECRET);
  const stickyBody = (pr: number) =>
    github.comments(OWNER, REPO, pr).find((c) => c.body.startsWith(STICKY_MARKER))?.body ?? '';
  const successFor = (pr: number, commit: string) =>
    waitUntil(
      async () =>
        github
          .deployments(OWNER, REPO)
          .filter((d) => d.environment === `preview/pr-${pr}` && d.sha === commit)
          .flatMap((d) => d.statuses)
          .find((s) => s.state === 'success'),
      { what: `PR #${pr}: a successful deployment of ${commit.slice(0, 7)}`, ...PREVIEW_WAIT },
    );
  /** What the preview URL answers, fetched as a browser would, from the ingress controller on this machine. */
  const open = async (url: string) => {
    expect(new URL(url).port).toBe(ingressUrl.port);
    const page = await openThroughIngress(url, ingressUrl.href);
    return { status: page.status, text: page.body };
  };
  const pageShowing = (url: string, commit: string) =>
    waitUntil(
      async () => {
        const page = await open(url).catch(() => undefined);
        return page?.status === 200 && page.text.includes(commit) ? page.text : undefined;
      },
      { what: `${url} to show ${commit.slice(0, 7)}`, timeoutMs: 60_000, intervalMs: 500 },
    );
  /** The node's containers (sandboxes included) that belong to a host namespace, as containerd lists them. */
  const containersOf = (namespace: string) =>
    execFileSync('ctr', [
      '--address',
      node.containerdSocket,
      '--namespace',
      'k8s.io',
      'containers',
      'list',
      '--quiet',
      `labels."io.kubernetes.pod.namespace"==${namespace}`,
    ])
      .toString()
      .split('\n')
      .filter(Boolean);
  /** The node's ends of its pods' veth pairs: one per running pod sandbox. */
  const nodeVeths = () =>
    execFileSync('ip', ['-n', node.netns, '-o', 'link', 'show', 'type', 'veth'])
      .toString()
      .split('\n')
      .map((line) => line.split(':')[1]?.trim().split('@')[0])
      .filter((name): name is string => !!name);
  const nodeRulesMentioning = (namespace: string) =>
    execFileSync('ip', ['netns', 'exec', node.netns, 'iptables-save'])
      .toString()
      .split('\n')
      .filter((line) => line.includes(`${namespace}/`));
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
    // Pods of earlier tests may still be going away: only new interfaces count.
    const vethsBefore = nodeVeths();
    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 1, headSha: sha('c') };
    await seedExample(github, OWNER, REPO, pr.headSha);
    github.addPullRequest(pr);
    expect((await post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);

    const status = await successFor(1, pr.headSha);
    const url = status.environment_url!;
    expect(url).toMatch(
      new RegExp(`^http://pr-1-[a-z0-9-]*hello[a-z0-9-]*\\.preview\\.localhost:${ingressUrl.port}$`),
    );
    expect(stickyBody(1)).toContain(url);
    expect(await pageShowing(url, pr.headSha)).toContain('Hello from pull request #1');
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
    await successFor(1, pushed.headSha);
    expect(await pageShowing(url, pushed.headSha)).not.toContain(pr.headSha);

    const virtual = kubeClients(await provider.kubeconfig(preview));
    await virtual.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'left-behind' } },
    });
    const resetStatuses = () =>
      github
        .deployments(OWNER, REPO)
        .filter((d) => d.sha === pushed.headSha)
        .flatMap((d) => d.statuses)
        .filter((s) => s.state === 'success').length;
    const before = resetStatuses();
    const stored = github.addComment(OWNER, REPO, 1, '/vcluster reset', 'maintainer');
    await post(
      'issue_comment',
      issueCommentEvent(pushed, { body: '/vcluster reset', sender: 'maintainer', commentId: stored.id }),
    );
    await waitUntil(async () => resetStatuses() > before || undefined, {
      what: 'the reset deployed',
      ...PREVIEW_WAIT,
    });
    // A fresh cluster: what was made in the old one is gone (its etcd volume went with it).
    const fresh = kubeClients(await provider.kubeconfig(preview));
    expect(
      await isGone(() => fresh.core.readNamespacedConfigMap({ name: 'left-behind', namespace: 'default' })),
    ).toBe(true);
    expect(await pageShowing(url, pushed.headSha)).toContain('Hello from pull request #1');

    await post('pull_request', pullRequestEvent('closed', pushed));
    await waitUntil(() => isGone(() => host.core.readNamespace({ name: namespace })), {
      what: `preview namespace ${namespace} deleted`,
      ...PREVIEW_WAIT,
    });
    expect((await open(url)).status).toBe(404);
    await waitUntil(async () => containersOf(namespace).length === 0, {
      what: 'the preview containers and sandboxes removed',
      timeoutMs: 90_000,
    });
    await waitUntil(async () => (await volumesOf(namespace)).length === 0, {
      what: 'the preview’s volumes deleted',
      timeoutMs: 90_000,
    });
    await waitUntil(async () => nodeVeths().every((veth) => vethsBefore.includes(veth)), {
      what: 'the preview pods’ veth interfaces removed',
      timeoutMs: 30_000,
    });
    await waitUntil(async () => nodeRulesMentioning(namespace).length === 0, {
      what: 'the preview Services’ iptables rules removed',
      timeoutMs: 30_000,
    });
  }, 900_000);
});
