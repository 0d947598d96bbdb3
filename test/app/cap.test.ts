import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Octokit } from '@octokit/rest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { WaitingForSlotError } from '../../app/errors/waiting-for-slot-error.ts';
import { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { PreviewWorker } from '../../app/queue/preview-worker.ts';
import { createReconciler, previewAnnotations, previewLabels } from '../../app/reconcile/index.ts';
import { PreviewSlots } from '../../app/slots/preview-slots.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { annotations, labels, type VirtualClusterProvider } from '../../preview/provider.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type GitHubDouble, REPO_CONFIG_ROUTE, startGitHubDouble } from '../support/github-double.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'hello');
const OWNER = 'capco';
const REPO = `hello-${randomBytes(3).toString('hex')}`;
const FULL = `${OWNER}/${REPO}`;
const sha = (char: string) => char.repeat(40);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** kube/wait.ts's waitUntil; a probe's falsy answer means "not yet". */
const waitFor = <T>(what: string, probe: () => Promise<T>, timeoutMs = 90_000) =>
  waitUntil(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 100 }) as Promise<
    NonNullable<T>
  >;

/**
 * MAX_PREVIEWS=1 with the real worker, reconciler, Redis and host cluster. The first pull request's
 * live preview is a host namespace marked as one (no control plane: the cap counts marks, and a
 * control plane would only cost time); the second one's is made for real once the first is closed.
 */
describe('the preview cap', () => {
  let github: GitHubDouble;
  let stateRoot: string;
  let provider: VirtualClusterProvider;
  let queue: PreviewQueue;
  let slots: PreviewSlots;
  let worker: PreviewWorker;
  let reconcile: ReturnType<typeof createReconciler>;
  const host = () => kubeClients(inject('hostKubeconfig'));
  const sticky = (pr: number) =>
    github.comments(OWNER, REPO, pr).find((comment) => comment.body.startsWith(STICKY_MARKER))?.body ?? '';

  beforeAll(async () => {
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO);
    const entries = await readdir(EXAMPLE, { withFileTypes: true, recursive: true });
    for (const entry of entries.filter((file) => file.isFile() && !file.name.endsWith('.md'))) {
      const path = join(entry.parentPath, entry.name);
      github.setFile(OWNER, REPO, sha('2'), relative(EXAMPLE, path), await readFile(path, 'utf8'));
    }
    stateRoot = await mkdtemp(join(tmpdir(), 'vcp-cap-'));
    provider = localProvider({ hostKubeconfig: inject('hostKubeconfig'), stateRoot });
    const name = `cap-${randomBytes(4).toString('hex')}`;
    queue = new PreviewQueue({ connection: inject('redisUrl'), name });
    slots = new PreviewSlots({
      connection: inject('redisUrl'),
      keyPrefix: `test:${name}:slots`,
      limits: { total: 1 },
      listPreviews: () => provider.list(),
      // Production asks again every 30 s; the test need not wait that long.
      retryAfterMs: 300,
    });
    reconcile = createReconciler({
      provider,
      hostKubeconfig: inject('hostKubeconfig'),
      githubFor: async () => new Octokit({ baseUrl: github.url, auth: 'x', log: quiet }),
      baseDomain: 'preview.test',
      slots,
    });
    worker = new PreviewWorker({ connection: inject('redisUrl'), queueName: name, logger: log, reconcile });
  });
  afterAll(async () => {
    await worker?.close();
    await queue?.queue.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    await slots?.close();
    for (const pr of [1, 2]) await provider?.delete(previewName(FULL, pr)).catch(() => {});
    await github?.stop();
    if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  });

  it('the second pull request waits 1st in line, then starts once the first is closed', async () => {
    const first = previewName(FULL, 1);
    await host().core.createNamespace({
      body: {
        metadata: {
          name: first.namespace,
          labels: { ...previewLabels(FULL, 1, 1), [labels.vcluster]: first.name, [labels.provider]: 'local' },
          annotations: {
            ...previewAnnotations(FULL, sha('1'), new Date()),
            [annotations.state]: 'running',
            [annotations.createdAt]: new Date().toISOString(),
            [annotations.createdNamespace]: 'true',
          },
        },
      },
    });
    github.addPullRequest({ owner: OWNER, repo: REPO, number: 1, headSha: sha('1') });
    github.addPullRequest({ owner: OWNER, repo: REPO, number: 2, headSha: sha('2') });

    await queue.enqueue({ repo: FULL, pr: 2, desired: { kind: 'up', sha: sha('2') }, installationId: 1 });
    await waitFor('the second pull request to be told its place', async () =>
      sticky(2).includes('Waiting for a preview slot: 1st in line'),
    );
    const body = sticky(2);
    expect(body).toContain('All 1 preview slots are in use');
    expect(body).toContain(`**Commit:** ${sha('2').slice(0, 7)}`);
    // Its job waits without using up attempts, asking again, and nothing was made for it meanwhile.
    await sleep(1_000);
    const place = await queue.place(FULL, 2);
    const job = place.state === 'none' ? undefined : await queue.queue.getJob(place.jobId);
    expect(job?.attemptsMade).toBe(0);
    expect(await isGone(() => host().core.readNamespace({ name: previewName(FULL, 2).namespace }))).toBe(
      true,
    );
    // Asked several times, told once: the comment is not edited while the place stays the same.
    expect(
      github
        .callsTo('PATCH', /\/issues\/comments\/\d+$/)
        .filter((call) => (call.body as { body: string }).body.includes('in line')),
    ).toEqual([]);

    github.updatePullRequest(OWNER, REPO, 1, { state: 'closed' });
    await queue.enqueue({ repo: FULL, pr: 1, desired: { kind: 'down' }, installationId: 1 });
    await waitFor('the second preview to be ready', async () => sticky(2).includes('🚀 Preview ready'));
    expect(sticky(1)).toContain('🗑️ Preview destroyed');
    expect(await isGone(() => host().core.readNamespace({ name: first.namespace }))).toBe(true);
    expect((await provider.get(previewName(FULL, 2)))?.state).toBe('running');
  }, 150_000);

  it('keeps each waiting pull request at its place and hands a freed slot to the first in line', async () => {
    const claim = (pr: number) =>
      slots.claim({ repo: FULL, pr, installationId: 1, desired: 'up', hasLivePreview: false }).then(
        () => 'starts',
        (error: unknown) => (error instanceof WaitingForSlotError ? error.place : error),
      );
    // The second pull request's preview from above holds the one slot.
    expect([await claim(10), await claim(11), await claim(12)]).toEqual([1, 2, 3]);
    expect([await claim(12), await claim(11)]).toEqual([3, 2]);
    await slots.release(FULL, 10, 1);
    expect([await claim(12), await claim(11)]).toEqual([2, 1]);

    // The second pull request is closed: its down job deletes the preview and frees the slot.
    await provider.delete(previewName(FULL, 2));
    await slots.release(FULL, 2, 1);
    // The last in line asks first, yet the slot goes to the first; once it has it, the slot is taken.
    expect(await claim(12)).toBe(2);
    expect(await claim(11)).toBe('starts');
    expect(await claim(12)).toBe(1);
    await slots.release(FULL, 11, 1);
    expect(await claim(12)).toBe('starts');
    await slots.release(FULL, 12, 1);
  });

  it('a preview whose last attempt fails gives its slot back at once, and says no retry follows', async () => {
    github.addPullRequest({ owner: OWNER, repo: REPO, number: 20, headSha: sha('2') });
    github.failNext({
      method: 'GET',
      path: REPO_CONFIG_ROUTE,
      status: 502,
    });
    const failure = await reconcile(
      { repo: FULL, pr: 20, installationId: 1, desired: { kind: 'up', sha: sha('2') } },
      {
        log,
        progress: async () => {},
        signal: new AbortController().signal,
        attempt: 3,
        attemptsLeft: 0,
      },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    // The one slot is free for the next pull request now, not once the failed one's entry goes stale.
    await expect(
      slots.claim({ repo: FULL, pr: 21, installationId: 1, desired: 'up', hasLivePreview: false }),
    ).resolves.toBeUndefined();
    await slots.release(FULL, 21, 1);
    const body = sticky(20);
    expect(body).toContain('Read config failed:');
    expect(body).not.toContain('retrying');
    expect(body).toContain('No attempts left: comment `/vcluster redeploy` to try again');
  });
});
