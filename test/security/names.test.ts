import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { repoLabel } from '../../app/preview-metadata.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { waitUntil } from '../../kube/wait.ts';
import { labels } from '../../preview/provider.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
/** Two repositories GitHub keeps apart whose names become the same DNS label when slugged. */
const REPOS = ['shop.js', 'shop-js'] as const;
const WAIT = { timeoutMs: 180_000, intervalMs: 250 };

/**
 * Names of two repositories that only differ where a Kubernetes name cannot (`shop.js`, `shop-js`),
 * through the real path (signed webhooks → worker → virtual clusters): opened at once, neither job
 * is taken for the other's, each gets a virtual cluster, namespace and URL of its own, and closing
 * one leaves the other.
 */
describe('security: two repositories never share a job, a namespace or a host', () => {
  let flow: PreviewFlow;
  const hostKubeconfig = inject('hostKubeconfig');
  // The flow's state home is this process's: the provider finds the previews it made.
  const provider = () => localProvider({ hostKubeconfig });
  const refs = REPOS.map((repo) => previewName(`${OWNER}/${repo}`, 1));
  const heads = REPOS.map(() => randomBytes(20).toString('hex'));
  const sticky = (repo: string) =>
    flow.github.comments(OWNER, repo, 1).find((c) => c.body.startsWith(STICKY_MARKER))?.body ?? '';

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPOS[0],
      otherRepos: [`${OWNER}/${REPOS[1]}`],
      hostKubeconfig,
      redisUrl: inject('redisUrl'),
    });
    for (const [index, repo] of REPOS.entries()) {
      await seedExample(flow.github, OWNER, repo, heads[index]!);
      const pr = { owner: OWNER, repo, number: 1, headSha: heads[index]! };
      flow.github.addPullRequest(pr);
      expect((await flow.post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    }
  }, 120_000);

  afterAll(() => flow?.stop(), 180_000);

  it('each gets a preview of its own, with its own namespace and URL', async () => {
    const bodies = await Promise.all(
      REPOS.map((repo) =>
        waitUntil(
          async () => {
            const body = sticky(repo);
            if (body.includes('Preview failed')) throw new Error(`${OWNER}/${repo}#1 failed:\n${body}`);
            return body.includes('🚀 Preview ready') ? body : undefined;
          },
          { what: `${OWNER}/${repo}#1 ready`, ...WAIT },
        ),
      ),
    );
    expect(refs[0]!.namespace).not.toBe(refs[1]!.namespace);
    const urls = bodies.map((body) => /https?:\/\/[^\s)]+preview\.test[^\s)]*/.exec(body)?.[0]);
    expect(urls[0]).toBeTruthy();
    expect(urls[0]).not.toBe(urls[1]);
    // Each virtual cluster says whose it is, and is at that repository's commit.
    for (const [index, ref] of refs.entries()) {
      const info = await provider().get(ref);
      expect(info?.labels[labels.repo]).toBe(repoLabel(`${OWNER}/${REPOS[index]}`));
      expect(bodies[index]).toContain(heads[index]!.slice(0, 7));
    }
  }, 200_000);

  it('closing one pull request leaves the other repository’s preview', async () => {
    const pr = { owner: OWNER, repo: REPOS[0], number: 1, headSha: heads[0]! };
    flow.github.updatePullRequest(OWNER, REPOS[0], 1, { state: 'closed' });
    expect((await flow.post('pull_request', pullRequestEvent('closed', pr))).status).toBeLessThan(300);
    await waitUntil(async () => (await provider().get(refs[0]!)) === undefined || undefined, {
      what: `${OWNER}/${REPOS[0]}#1 torn down`,
      ...WAIT,
    });
    expect((await provider().get(refs[1]!))?.state).toBe('running');
  });
});
