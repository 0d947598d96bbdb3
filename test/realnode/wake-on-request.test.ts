import type { V1Ingress } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { openThroughIngress } from '../support/ingress.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'sleepy';
const FULL_NAME = `${OWNER}/${REPO}`;
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 180_000, intervalMs: 500 };

/**
 * Sleep and wake (#14) on the real node, through signed webhooks: a preview put to sleep as the
 * sweeper does (a pause job) keeps its URL, and the first request to it wakes the preview and is
 * answered with the commit's page (held while it wakes, not failed). A host no preview holds gets
 * 404 from the waker and wakes nothing.
 */
describe('a sleeping preview wakes on its first request', () => {
  let flow: PreviewFlow;
  const hostKubeconfig = inject('realHostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const ingressUrl = inject('ingressUrl');
  // Made once the flow runs: the local provider finds its state under the flow's home.
  let provider: ReturnType<typeof localProvider>;

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig,
      ingressUrl,
      redisUrl: inject('redisUrl'),
      provider: 'local',
      deployTimeoutMs: PREVIEW_WAIT.timeoutMs,
      settings: {
        // Held longer than the default: five people's tests share this machine's two cores.
        PREVIEW_WAKE_TIMEOUT: '60s',
        // The machine's end of the real node's link: the ingress controller reaches the waker there
        // (an EndpointSlice may not name a loopback address), and the waker address defaults to it.
        HOST: inject('realNode').hostIP,
      },
    });
    provider = localProvider({ hostKubeconfig });
  });

  afterAll(async () => {
    await flow?.stop();
  });

  const ref = previewName(FULL_NAME, 1);
  const ingressOf = (namespace: string): Promise<V1Ingress> =>
    host.networking.readNamespacedIngress({ name: 'preview', namespace });
  const backendOf = (ingress: V1Ingress) =>
    ingress.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name ?? '';

  it('paused → one request is answered with the page, the preview runs again and says so', async () => {
    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 1, headSha: sha('d') };
    await seedExample(flow.github, OWNER, REPO, pr.headSha);
    flow.github.addPullRequest(pr);
    expect((await flow.post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    const url = (await flow.successFor(1, pr.headSha)).environment_url!;
    expect(await flow.pageShowing(url, pr.headSha)).toContain('Hello from pull request #1');
    const namespace = (await provider.get(ref))!.namespace;
    const appBackend = backendOf(await ingressOf(namespace));

    // As the sweeper puts an idle preview to sleep.
    const queue = flow.service.queue!;
    expect(
      await queue.enqueueIfIdle({
        repo: FULL_NAME,
        pr: 1,
        installationId: 1,
        desired: { kind: 'pause' },
        reason: { kind: 'idle', text: 'idle for 1h: paused' },
      }),
    ).toBeDefined();
    await waitUntil(async () => flow.stickyBody(1).includes('💤 Preview paused') || undefined, {
      what: 'the sticky comment to say the preview sleeps',
      ...PREVIEW_WAIT,
    });
    expect((await provider.get(ref))?.state).toBe('paused');
    // Nothing of the app runs, and the URL now goes to the service's waker.
    const pods = await host.core.listNamespacedPod({
      namespace,
      labelSelector: `vcluster.loft.sh/managed-by=${ref.name}`,
    });
    expect(pods.items.filter((pod) => !pod.metadata?.deletionTimestamp)).toEqual([]);
    expect(backendOf(await ingressOf(namespace))).toBe('preview-waker');
    await waitUntil(async () => (await queue.place(FULL_NAME, 1)).state === 'none' || undefined, {
      what: 'the pause job to finish',
      ...PREVIEW_WAIT,
    });

    // Another host under the preview domain, asked of the waker directly (the ingress controller
    // has no route for it): 404, and nothing is woken or enqueued.
    const service = new URL(flow.service.url!);
    const stranger = await openThroughIngress(
      `http://pr-404-nobody.preview.localhost:${service.port}/`,
      flow.service.url!,
    );
    expect(stranger.status).toBe(404);
    expect(stranger.body).toContain('No preview is served at pr-404-nobody.preview.localhost');
    expect((await queue.place(FULL_NAME, 1)).state).toBe('none');
    expect((await provider.get(ref))?.state).toBe('paused');

    // The one request a reviewer makes by clicking the link.
    const started = Date.now();
    const page = await openThroughIngress(url, ingressUrl, 90_000);
    const tookMs = Date.now() - started;
    expect(page.status).toBe(200);
    expect(page.body).toContain(pr.headSha);
    expect(page.body).toContain('Hello from pull request #1');
    console.log(`wake on request: the first request to the sleeping preview was answered in ${tookMs} ms`);

    expect((await provider.get(ref))?.state).toBe('running');
    await waitUntil(async () => flow.stickyBody(1).includes('🚀 Preview ready') || undefined, {
      what: 'the sticky comment to say the preview is awake',
      ...PREVIEW_WAIT,
    });
    expect(flow.stickyBody(1)).toContain('**Why:** a visit to its URL woke it');
    // The URL is the app's again, and the waker's Service is gone.
    await waitUntil(async () => backendOf(await ingressOf(namespace)) === appBackend || undefined, {
      what: 'the Ingress to send the preview host to the app again',
      ...PREVIEW_WAIT,
    });
    await waitUntil(
      () => isGone(() => host.core.readNamespacedService({ name: 'preview-waker', namespace })),
      {
        what: 'the waker Service to go',
        ...PREVIEW_WAIT,
      },
    );
    expect((await flow.open(url)).body).toContain(pr.headSha);

    await flow.post('pull_request', pullRequestEvent('closed', pr));
    await waitUntil(async () => (await provider.get(ref)) === undefined || undefined, {
      what: 'the preview deleted',
      ...PREVIEW_WAIT,
    });
  }, 600_000);
});
