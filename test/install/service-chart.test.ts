import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { openThroughIngress } from '../support/ingress.ts';
import { kubeconfigFile, runBinary } from '../support/kubectl.ts';
import { seedExample } from '../support/preview-service.ts';
import { type PullRequestSpec, postWebhook, pullRequestEvent } from '../support/webhooks.ts';

const chart = fileURLToPath(new URL('../../charts/vcluster-preview', import.meta.url));
const RELEASE = 'vcp';
const NAMESPACE = 'vcp-system';
const OWNER = 'install';
const REPO = 'hello';
const SERVICE_HOST = 'vcluster-preview.localhost';
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
// The service's pods start, then each preview's chart control plane starts in a pod of its own.
const PREVIEW_WAIT = { timeoutMs: 360_000, intervalMs: 1000 };

/**
 * The service installed the way a platform team installs it: `helm install` of
 * charts/vcluster-preview into the embedded host with the real node. Its own image runs web, worker
 * and the bundled Redis as real containers; the worker, with only its service account, installs a
 * pull request's virtual cluster, and the URL answers with the commit. An upgrade keeps the preview
 * and a job queued meanwhile; closing the pull request deletes the preview.
 */
describe('charts/vcluster-preview installed on the real node', () => {
  const hostKubeconfig = inject('realHostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const ingressUrl = new URL(inject('ingressUrl'));
  const node = inject('realNode');
  const secret = `whsec-${randomBytes(8).toString('hex')}`;
  const preview = previewName(`${OWNER}/${REPO}`, 1);
  let github: GitHubDouble;
  let kubeconfig: string;
  let webhookUrl: string;

  const helm = (...args: string[]) => runBinary('helm', args, { kubeconfig });
  const values = (...extra: string[]) =>
    [
      'github.appId=1',
      `github.webhookSecret=${secret}`,
      `github.enterpriseHost=${github.host}`,
      'previews.baseDomain=preview.localhost',
      'previews.urlScheme=http',
      `previews.urlPort=${ingressUrl.port}`,
      'api.audience=install-test',
      `ingress.host=${SERVICE_HOST}`,
      'previews.ingressClassName=traefik',
      // The embedded host's ingress controller and DNS are processes of this machine, not pods: the
      // previews' NetworkPolicies let its address in, as a platform team with such a host would.
      `previews.vclusterValues.isolation.networkPolicy.hostCIDRs[0]=${node.hostIP}/32`,
      'extraEnv[0].name=GHE_PROTOCOL',
      'extraEnv[0].value=http',
      ...extra,
    ].flatMap((set) => ['--set', set]);
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const post = (event: string, payload: unknown) => postWebhook(webhookUrl, event, payload, secret);
  const successFor = (commit: string) =>
    waitUntil(
      async () =>
        github
          .deployments(OWNER, REPO)
          .filter((d) => d.sha === commit)
          .flatMap((d) => d.statuses)
          .find((s) => s.state === 'success'),
      { what: `a successful deployment of ${commit.slice(0, 7)}`, ...PREVIEW_WAIT },
    );
  const pageShowing = (url: string, commit: string) =>
    waitUntil(
      async () => {
        const page = await openThroughIngress(url, ingressUrl.href).catch(() => undefined);
        return page?.status === 200 && page.body.includes(commit) ? page.body : undefined;
      },
      { what: `${url} to show ${commit.slice(0, 7)}`, timeoutMs: 90_000, intervalMs: 500 },
    );
  const servicePods = async () =>
    (
      await host.core.listNamespacedPod({
        namespace: NAMESPACE,
        labelSelector: `app.kubernetes.io/instance=${RELEASE}`,
      })
    ).items;

  beforeAll(async () => {
    kubeconfig = await kubeconfigFile(hostKubeconfig);
    // The service's pods reach this machine at the node's gateway address.
    github = await startGitHubDouble({ listenHost: node.hostIP });
    github.addRepo(OWNER, REPO, { installationId: 1 });
    github.setPermission(OWNER, REPO, 'maintainer', 'maintain');
    await helm(
      'install',
      RELEASE,
      chart,
      '--namespace',
      NAMESPACE,
      '--create-namespace',
      '--set-string',
      `github.privateKey=${privateKey}`,
      ...values(),
      '--wait',
      '--timeout',
      '5m',
    );
    const web = await host.core.readNamespacedService({
      name: `${RELEASE}-vcluster-preview`,
      namespace: NAMESPACE,
    });
    webhookUrl = `http://${web.spec!.clusterIP}/api/github/webhooks`;
    // GitHub's side of it: the Service answers once kube-proxy has programmed it.
    await waitUntil(
      async () =>
        (await fetch(`http://${web.spec!.clusterIP}/readyz`).catch(() => undefined))?.ok || undefined,
      { what: 'the web Service to answer', timeoutMs: 30_000, intervalMs: 500 },
    );
  });

  afterAll(async () => {
    await helm('uninstall', RELEASE, '--namespace', NAMESPACE, '--ignore-not-found', '--wait').catch(
      () => {},
    );
    await runBinary(
      'kubectl',
      [
        'delete',
        'namespace',
        NAMESPACE,
        ...[1, 2, 3].map((pr) => previewName(`${OWNER}/${REPO}`, pr).namespace),
        '--ignore-not-found',
        '--wait=false',
      ],
      {
        kubeconfig,
      },
    ).catch(() => {});
    await github?.stop();
  });

  it('runs, serves a pull request whose URL answers, upgrades without losing it, and cleans up', async () => {
    // Web, worker and Redis run as real containers of the service's own image on the real node.
    const pods = await servicePods();
    expect(
      pods
        .map((p) => [p.metadata?.labels?.['app.kubernetes.io/component'], p.status?.phase, p.spec?.nodeName])
        .sort(),
    ).toEqual([
      ['redis', 'Running', 'real-node'],
      ['web', 'Running', 'real-node'],
      ['worker', 'Running', 'real-node'],
    ]);
    // Readiness means Redis answered by its Service name: the host's DNS works in pods.
    expect(
      pods.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    ).toBe(true);
    // The Ingress serves the service at its host.
    expect(await openThroughIngress(`http://${SERVICE_HOST}/healthz`, ingressUrl.href)).toMatchObject({
      status: 200,
    });
    expect((await openThroughIngress(`http://${SERVICE_HOST}/readyz`, ingressUrl.href)).body).toContain(
      '[+]redis ok',
    );

    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 1, headSha: sha('a') };
    await seedExample(github, OWNER, REPO, pr.headSha);
    github.addPullRequest(pr);
    expect((await post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    const url = (await successFor(pr.headSha)).environment_url!;
    expect(url).toMatch(new RegExp(`^http://pr-1-[a-z0-9-]*\\.preview\\.localhost:${ingressUrl.port}$`));
    expect(await pageShowing(url, pr.headSha)).toContain('Hello from pull request #1');
    expect(github.comments(OWNER, REPO, 1).find((c) => c.body.startsWith(STICKY_MARKER))?.body).toContain(
      url,
    );
    // The operator's IngressClass reaches the preview's syncer, and the host Ingress it made.
    const controlPlane = await host.core.listNamespacedPod({
      namespace: preview.namespace,
      labelSelector: `app=vcluster,release=${preview.name}`,
    });
    const syncer = controlPlane.items[0]?.spec?.containers.find((c) => c.name === 'syncer');
    expect([...(syncer?.command ?? []), ...(syncer?.args ?? [])].join(' ')).toContain(
      '--ingress-class traefik',
    );
    const ingresses = await host.networking.listNamespacedIngress({ namespace: preview.namespace });
    expect(ingresses.items.map((i) => i.spec?.ingressClassName)).toEqual(['traefik']);
    // The preview's chart passes its own `helm test`: the API server answers at its Service.
    expect(await helm('test', preview.name, '--namespace', preview.namespace, '--timeout', '2m')).toContain(
      'Phase:          Succeeded',
    );

    // A push queued while the service is upgraded (a changed value rolls web and worker).
    const pushed = { ...pr, headSha: sha('b') };
    await seedExample(github, OWNER, REPO, pushed.headSha);
    github.updatePullRequest(OWNER, REPO, 1, { headSha: pushed.headSha });
    const upgrade = helm(
      'upgrade',
      RELEASE,
      chart,
      '--namespace',
      NAMESPACE,
      '--reuse-values',
      '--set',
      'worker.concurrency=3',
      '--wait',
      '--timeout',
      '5m',
    );
    expect(
      (await post('pull_request', pullRequestEvent('synchronize', pushed, { before: pr.headSha }))).status,
    ).toBeLessThan(300);
    await upgrade;
    const worker = await host.apps.readNamespacedDeployment({
      name: `${RELEASE}-vcluster-preview-worker`,
      namespace: NAMESPACE,
    });
    expect(
      worker.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'WORKER_CONCURRENCY')?.value,
    ).toBe('3');
    await successFor(pushed.headSha);
    expect(await pageShowing(url, pushed.headSha)).not.toContain(pr.headSha);

    await post('pull_request', pullRequestEvent('closed', pushed));
    await waitUntil(() => isGone(() => host.core.readNamespace({ name: preview.namespace })), {
      what: `preview namespace ${preview.namespace} deleted by the worker`,
      ...PREVIEW_WAIT,
    });
    expect((await openThroughIngress(url, ingressUrl.href)).status).toBe(404);
  }, 1_200_000);
  it('a rolling restart of the workers and a restart of Redis in a burst lose no job: each pull request gets its URL once', async () => {
    const prs: PullRequestSpec[] = [2, 3].map((number) => ({
      owner: OWNER,
      repo: REPO,
      number,
      headSha: sha(String(number)),
    }));
    for (const pr of prs) {
      await seedExample(github, OWNER, REPO, pr.headSha);
      github.addPullRequest(pr);
      expect((await post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    }
    // The running jobs reach their end within the grace period or go back to the queue; Redis
    // comes back from its append-only file on the same volume.
    await runBinary(
      'kubectl',
      ['-n', NAMESPACE, 'rollout', 'restart', `deployment/${RELEASE}-vcluster-preview-worker`],
      {
        kubeconfig,
      },
    );
    await runBinary(
      'kubectl',
      ['-n', NAMESPACE, 'delete', 'pod', `${RELEASE}-vcluster-preview-redis-0`, '--wait=false'],
      {
        kubeconfig,
      },
    );
    for (const pr of prs) {
      const url = (await successFor(pr.headSha)).environment_url!;
      expect(await pageShowing(url, pr.headSha)).toContain(`Hello from pull request #${pr.number}`);
    }
    // Once each: no job ran twice to the end, none was lost.
    for (const pr of prs) {
      const successes = github
        .deployments(OWNER, REPO)
        .filter((d) => d.sha === pr.headSha)
        .flatMap((d) => d.statuses)
        .filter((st) => st.state === 'success');
      expect(successes).toHaveLength(1);
    }
    for (const pr of prs) await post('pull_request', pullRequestEvent('closed', pr));
    for (const pr of prs) {
      const { namespace } = previewName(`${OWNER}/${REPO}`, pr.number);
      await waitUntil(() => isGone(() => host.core.readNamespace({ name: namespace })), {
        what: `preview namespace ${namespace} deleted by the worker`,
        ...PREVIEW_WAIT,
      });
    }
  }, 1_200_000);
});
