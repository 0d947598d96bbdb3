import { afterAll, describe, expect, inject, it } from 'vitest';
import { kubeConfigFromString } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'outage';
const REPO = 'hello';
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/**
 * A fault a cluster will see: the host API server does not answer for 30 s while a pull request's
 * preview is being made. The job waits with backoff (the sticky comment says why it is slow) and
 * converges once the API server is back: one preview, its URL, nothing lost.
 */
describe('the host API server unreachable for 30 s', () => {
  it('a preview made meanwhile waits, says why, and gets its URL once the host answers again', async () => {
    const hostKubeconfig = inject('hostKubeconfig');
    const server = new URL(kubeConfigFromString(hostKubeconfig).getCurrentCluster()!.server);
    // Everything of the service reaches the host through the proxy: the worker and the local
    // provider's virtual cluster processes (they read the same kubeconfig).
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port) });
    cleanups.push(() => proxy.stop());
    const proxied = hostKubeconfig.replace(server.origin, `https://127.0.0.1:${proxy.port}`);
    const flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig,
      serviceHostKubeconfig: proxied,
      redisUrl: inject('redisUrl'),
    });
    cleanups.push(() => flow.stop());

    const pr = { owner: OWNER, repo: REPO, number: 1, headSha: 'e'.repeat(40) };
    await seedExample(flow.github, OWNER, REPO, pr.headSha);
    flow.github.addPullRequest(pr);
    await proxy.cut();
    const cutAt = Date.now();
    expect((await flow.post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    const sticky = () => flow.stickyBody(1);
    // While the host does not answer, the pull request is told why it waits.
    const waiting = await waitUntil(
      async () => (/ECONNREFUSED|not answering|unreachable/i.test(sticky()) ? sticky() : undefined),
      {
        what: 'the sticky comment to say the host cluster does not answer',
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    expect(waiting).toMatch(/retry/i);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - cutAt))));
    await proxy.restore();

    const status = await waitUntil(
      async () =>
        flow.github
          .deployments(OWNER, REPO)
          .flatMap((d) => d.statuses)
          .find((s) => s.state === 'success'),
      { what: 'the preview to converge after the outage', timeoutMs: 180_000, intervalMs: 500 },
    );
    expect(status.environment_url).toMatch(/^https:\/\/pr-1-/);
    expect(sticky()).toContain(status.environment_url);
    expect(
      flow.github
        .deployments(OWNER, REPO)
        .flatMap((d) => d.statuses)
        .filter((s) => s.state === 'success'),
    ).toHaveLength(1);
  }, 300_000);
});
