// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the repository's files.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { EXAMPLE_HELLO, seedExample } from '../support/preview-service.ts';
import { issueCommentEvent, type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'seeded';
const FULL_NAME = `${OWNER}/${REPO}`;
const CONFIG_PATH = '.github/vcluster-preview.yml';
const SEED_PATH = 'deploy/jobs/seed.yaml';
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 180_000, intervalMs: 500 };

/** The seed Job a repository keeps in its tree: it says which commit it seeded (a placeholder). */
const seedJob = (script: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: seed
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext:
        runAsNonRoot: true
        runAsUser: 65534
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: seed
          image: busybox:1.36
          command: [sh, -c, '${script}']
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: { drop: [ALL] }
`;

/**
 * `seed: { job: deploy/jobs/seed.yaml }` through signed webhooks on the real node: the Job's pod
 * really runs, once after a preview's first deploy, not after a push, again in the fresh cluster of
 * `/vcluster reset`; a seed that fails fails the deploy with its own log lines.
 */
describe('seed: a Job run once after the first deploy', () => {
  let flow: PreviewFlow;
  const hostKubeconfig = inject('realHostKubeconfig');

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig,
      ingressUrl: inject('ingressUrl'),
      redisUrl: inject('redisUrl'),
      provider: 'local',
      deployTimeoutMs: PREVIEW_WAIT.timeoutMs,
    });
  });

  afterAll(async () => {
    await flow?.stop();
  });

  /** The seed Job in the preview's virtual cluster, and what its pod printed. */
  const seedRun = async (pr: number) => {
    const virtual = await flow.virtual(pr);
    const job = (await virtual.objects.read({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'seed', namespace: 'default' },
    })) as V1Job;
    const [pod] = (
      await virtual.core.listNamespacedPod({ namespace: 'default', labelSelector: 'job-name=seed' })
    ).items;
    const log = await virtual.core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace: 'default' });
    return { uid: job.metadata?.uid, succeeded: job.status?.succeeded, log };
  };
  /** The hello example at `headSha`, with a seed Job in its tree and `seed:` in its config. */
  const seedCommit = async (headSha: string, script: string) => {
    await seedExample(flow.github, OWNER, REPO, headSha);
    const config = await readFile(join(EXAMPLE_HELLO, CONFIG_PATH), 'utf8');
    flow.github.setFile(OWNER, REPO, headSha, CONFIG_PATH, `${config}seed:\n  job: ${SEED_PATH}\n`);
    flow.github.setFile(OWNER, REPO, headSha, SEED_PATH, seedJob(script));
  };

  it('runs after the first deploy, not after a push, and again after /vcluster reset', async () => {
    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 1, headSha: sha('a') };
    await seedCommit(pr.headSha, 'echo seeded at ${{ sha }}');
    flow.github.addPullRequest(pr);
    expect((await flow.post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    await flow.successFor(1, pr.headSha);
    const first = await seedRun(1);
    expect(first.succeeded).toBe(1);
    expect(first.log).toBe(`seeded at ${pr.headSha}\n`);

    const pushed = { ...pr, headSha: sha('b') };
    await seedCommit(pushed.headSha, 'echo seeded at ${{ sha }}');
    flow.github.updatePullRequest(OWNER, REPO, 1, { headSha: pushed.headSha });
    await flow.post('pull_request', pullRequestEvent('synchronize', pushed, { before: pr.headSha }));
    await flow.successFor(1, pushed.headSha);
    // The same Job, from the first deploy: the push did not seed again.
    expect(await seedRun(1)).toEqual(first);

    const before = flow.successesOf(pushed.headSha);
    const stored = flow.github.addComment(OWNER, REPO, 1, '/vcluster reset', 'maintainer');
    await flow.post(
      'issue_comment',
      issueCommentEvent(pushed, { body: '/vcluster reset', sender: 'maintainer', commentId: stored.id }),
    );
    await waitUntil(async () => flow.successesOf(pushed.headSha) > before || undefined, {
      what: 'the reset deployed',
      ...PREVIEW_WAIT,
    });
    const reseeded = await seedRun(1);
    expect(reseeded.uid).not.toBe(first.uid);
    expect(reseeded.succeeded).toBe(1);
    expect(reseeded.log).toBe(`seeded at ${pushed.headSha}\n`);

    await flow.post('pull_request', pullRequestEvent('closed', pushed));
    await waitUntil(
      async () =>
        (await localProvider({ hostKubeconfig }).get(previewName(FULL_NAME, 1))) === undefined || undefined,
      {
        what: 'PR #1: the preview deleted',
        ...PREVIEW_WAIT,
      },
    );
  }, 480_000);

  it('a seed that fails fails the deploy, with the seed’s own log lines', async () => {
    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 2, headSha: sha('c') };
    await seedCommit(pr.headSha, 'echo "ERROR: table products does not exist" >&2; exit 3');
    flow.github.addPullRequest(pr);
    await flow.post('pull_request', pullRequestEvent('opened', pr));
    const sticky = await waitUntil(
      async () => (flow.stickyBody(2).includes('❌ Preview failed') ? flow.stickyBody(2) : undefined),
      { what: 'PR #2: the sticky comment reports the failure', ...PREVIEW_WAIT },
    );
    expect(sticky).toContain('post-install hook failed: Job default/seed');
    expect(sticky).toContain('ERROR: table products does not exist');
    expect(flow.successesOf(pr.headSha)).toBe(0);
    await flow.post('pull_request', pullRequestEvent('closed', pr));
    await waitUntil(
      async () =>
        (await localProvider({ hostKubeconfig }).get(previewName(FULL_NAME, 2))) === undefined || undefined,
      {
        what: 'PR #2: the preview deleted',
        ...PREVIEW_WAIT,
      },
    );
  }, 480_000);
});
