import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '../../kube/wait.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { EXAMPLE_HELLO, seedExample } from '../support/preview-service.ts';
import { issueCommentEvent, type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'hello';
const WAIT = { timeoutMs: 100_000, intervalMs: 250 };

/**
 * A pull request whose fork was deleted (GitHub then shows no head repository), through the real
 * path (signed webhooks → worker → virtual cluster): it is still a fork. Nothing is deployed until a
 * maintainer approves, and then with the base branch's config, never the one its commit carries
 * (which here asks for the host `admin.<domain>` and a seed Job of its own).
 */
describe('security: a deleted fork is still a fork', () => {
  let flow: PreviewFlow;
  const head = randomBytes(20).toString('hex');
  const spec: PullRequestSpec = {
    owner: OWNER,
    repo: REPO,
    number: 21,
    headSha: head,
    forkOwner: 'stranger',
    forkDeleted: true,
    author: 'stranger',
    baseRef: 'main',
  };

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
    });
    await seedExample(flow.github, OWNER, REPO, 'main');
    await seedExample(flow.github, OWNER, REPO, head);
    // The fork's own config: a host name of its choice and a Job of its own.
    const honest = await readFile(`${EXAMPLE_HELLO}/.github/vcluster-preview.yml`, 'utf8');
    flow.github.setFile(
      OWNER,
      REPO,
      head,
      '.github/vcluster-preview.yml',
      `${honest}\nurlTemplate: "admin.\${{ baseDomain }}"\nseed:\n  job: jobs/steal.yaml\n`,
    );
    flow.github.setFile(
      OWNER,
      REPO,
      head,
      'jobs/steal.yaml',
      'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: steal\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{ name: c, image: busybox }]\n',
    );
    flow.github.addPullRequest(spec);
    expect((await flow.post('pull_request', pullRequestEvent('opened', spec))).status).toBeLessThan(300);
  }, 120_000);

  afterAll(() => flow?.stop(), 180_000);

  const stickyWith = (what: string, matches: (body: string) => boolean) =>
    waitUntil(
      async () => {
        const body = flow.stickyBody(spec.number);
        return matches(body) ? body : undefined;
      },
      { what: `the sticky comment ${what}`, ...WAIT },
    );

  it('waits for a maintainer’s approval, then deploys with the base branch’s config', async () => {
    const asking = await stickyWith('asking for approval', (body) => body.includes('⏸️ Waiting for approval'));
    expect(asking).toContain('comes from a fork, so nothing is deployed until a maintainer');
    expect(await flow.hostNamespaces(spec.number)).toEqual([]);

    const approve = flow.github.addComment(OWNER, REPO, spec.number, '/vcluster approve', 'maintainer');
    expect(
      (
        await flow.post(
          'issue_comment',
          issueCommentEvent(spec, { body: approve.body, sender: 'maintainer', commentId: approve.id }),
        )
      ).status,
    ).toBeLessThan(300);

    const ready = await stickyWith('with the preview URL', (body) => {
      if (body.includes('Preview failed')) throw new Error(`the preview failed:\n${body}`);
      return body.includes('🚀 Preview ready');
    }).catch((error: unknown) => {
      throw new Error(`${error}\n--- last sticky:\n${flow.stickyBody(spec.number)}`);
    });
    // The base branch's default host, not the fork's `admin.…`; its seed Job never ran.
    expect(ready).toMatch(/https:\/\/pr-21-hello-acme\.preview\.test/);
    expect(ready).not.toContain('admin.preview.test');
    const virtual = await flow.virtual(spec.number);
    const jobs = await virtual.objects.list('batch/v1', 'Job');
    expect(jobs.items.map((job) => job.metadata?.name)).toEqual([]);
    expect(flow.github.deployments(OWNER, REPO).map((d) => d.sha)).toEqual([head]);
  });
});
