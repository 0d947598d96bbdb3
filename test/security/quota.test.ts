import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { kubeClients, statusCodeOf } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { restrictedContainer } from '../support/restricted-container.ts';
import { pullRequestEvent } from '../support/webhooks.ts';

const FLOODER = { owner: 'mallory', repo: 'flood' };
const NEIGHBOUR = { owner: 'alice', repo: 'shop' };
const WAIT = { timeoutMs: 180_000, intervalMs: 250 };
/** The operator's limit on each preview's virtual cluster store, small so that the test fills it fast. */
const STORE_LIMIT_MIB = 32;

/** Far more pods than the host namespace's quota (`count/pods` 20) allows. */
const flood = JSON.stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'flood' },
  spec: {
    replicas: 60,
    selector: { matchLabels: { app: 'flood' } },
    template: {
      metadata: { labels: { app: 'flood' } },
      spec: {
        containers: [restrictedContainer],
      },
    },
  },
});

/**
 * A preview that floods its cluster, through the real path (signed webhooks → worker → virtual
 * cluster → syncer → host): 60 replicas get no more than the host quota's 20 pods, the pods left
 * over carry an event saying which limit is full, the deploy fails at once with that reason rather
 * than waiting out its timeout (and its virtual cluster goes), and a tenant writing objects that
 * never reach the host is stopped by its store's limit. The previews opened at the same moment, of
 * another repository and of the same one, are ready and take writes throughout.
 */
describe('security: a preview that creates thousands of objects is stopped by its quotas', () => {
  let flow: PreviewFlow;
  const hostKubeconfig = inject('hostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const flooder = previewName(`${FLOODER.owner}/${FLOODER.repo}`, 1);
  /** The same repository's other pull request, an honest app whose tenant then fills its store. */
  const filler = previewName(`${FLOODER.owner}/${FLOODER.repo}`, 2);
  const neighbour = previewName(`${NEIGHBOUR.owner}/${NEIGHBOUR.repo}`, 1);
  // The flow's state home is this process's: the provider finds the previews it made.
  const provider = () => localProvider({ hostKubeconfig });
  const sticky = (owner: string, repo: string, pr = 1) =>
    flow.github.comments(owner, repo, pr).find((c) => c.body.startsWith(STICKY_MARKER))?.body ?? '';
  const ready = (owner: string, repo: string, pr = 1) =>
    waitUntil(
      async () => {
        const body = sticky(owner, repo, pr);
        if (body.includes('Preview failed')) throw new Error(`${owner}/${repo}#${pr} failed:\n${body}`);
        return body.includes('🚀 Preview ready') || undefined;
      },
      { what: `${owner}/${repo}#${pr} ready beside the flood`, ...WAIT },
    );

  beforeAll(async () => {
    flow = await startPreviewFlow({
      ...FLOODER,
      hostKubeconfig,
      redisUrl: inject('redisUrl'),
      otherRepos: [`${NEIGHBOUR.owner}/${NEIGHBOUR.repo}`],
      settings: { PREVIEW_STORE_LIMIT_MIB: String(STORE_LIMIT_MIB) },
    });
    // All at once: the flood must not hold up the other previews.
    const previews = [
      { ...FLOODER, number: 1, flood: true },
      { ...FLOODER, number: 2, flood: false },
      { ...NEIGHBOUR, number: 1, flood: false },
    ];
    for (const { owner, repo, number, flood: floods } of previews) {
      const headSha = randomBytes(20).toString('hex');
      await seedExample(flow.github, owner, repo, headSha);
      if (floods) flow.github.setFile(owner, repo, headSha, 'deploy/flood.yaml', flood);
      const pr = { owner, repo, number, headSha };
      flow.github.addPullRequest(pr);
      expect((await flow.post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    }
  }, 120_000);

  afterAll(() => flow?.stop(), 180_000);

  it('gets no more pods than its host quota allows, says which limit is full, and fails at once', async () => {
    let mostHostPods = 0;
    const failed = await waitUntil(
      async () => {
        const pods = await host.core
          .listNamespacedPod({ namespace: flooder.namespace })
          .catch(() => undefined);
        mostHostPods = Math.max(mostHostPods, pods?.items.length ?? 0);
        const body = sticky(FLOODER.owner, FLOODER.repo);
        return body.includes('Preview failed') ? body : undefined;
      },
      { what: 'the flooding preview to fail', ...WAIT },
    );
    expect(mostHostPods).toBeGreaterThan(0);
    expect(mostHostPods).toBeLessThanOrEqual(20);
    // What the author reads: the full limit, on the deployment and in its pods' events.
    expect(failed).toContain(
      "Deployment default/flood: the preview's host quota is used up (count/pods 20 of 20)",
    );
    expect(failed).toMatch(
      /Warning HostQuotaExceeded Pod\/flood-[a-z0-9]+-[a-z0-9]+: the preview's host quota is used up/,
    );
    // The rollout gave up on the refusal, not after its timeout of minutes, and is not retried.
    expect(failed).not.toMatch(/did not finish within/);
    expect(failed).toMatch(/fix the objects named above in your manifests/i);
    // No half-made environment is left: the virtual cluster made for it is gone.
    await waitUntil(async () => (await provider().get(flooder)) === undefined || undefined, {
      what: 'the flooding preview deleted',
      ...WAIT,
    });

    // Meanwhile the other previews came up as usual.
    await ready(NEIGHBOUR.owner, NEIGHBOUR.repo);
    await ready(FLOODER.owner, FLOODER.repo, 2);
  });

  it('a tenant writing objects that never reach the host is stopped by its store limit, alone', async () => {
    await ready(FLOODER.owner, FLOODER.repo, 2);
    const virtual = await flow.virtual(2);
    const blob = 'x'.repeat(900 * 1024);
    let refusal: string | undefined;
    for (let i = 0; i < 4 * STORE_LIMIT_MIB && !refusal; i++) {
      try {
        await virtual.core.createNamespacedConfigMap({
          namespace: 'default',
          body: { metadata: { name: `junk-${i}` }, data: { blob } },
        });
      } catch (error) {
        refusal = `${statusCodeOf(error)} ${(error as { body?: string }).body ?? error}`;
      }
    }
    expect(refusal).toMatch(/database space exceeded/);
    // Unused ConfigMaps never left the virtual cluster.
    const hostConfigMaps = await host.core.listNamespacedConfigMap({ namespace: filler.namespace });
    expect(hostConfigMaps.items.filter((c) => c.metadata?.name?.startsWith('junk-'))).toEqual([]);
    // The neighbour's virtual cluster still takes writes.
    const other = kubeClients(await provider().kubeconfig(neighbour));
    const written = await other.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'still-writable' }, data: { ok: 'yes' } },
    });
    expect(written.metadata?.name).toBe('still-writable');
  });
});
