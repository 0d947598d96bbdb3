import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultReconciler } from '../../app/default-reconciler.ts';
import { previewName } from '../../app/desired-state.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { loadServiceConfig } from '../../app/service-config.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { EXAMPLE_HELLO, isolatedHome, seedExample, serviceEnv } from '../support/preview-service.ts';
import {
  type CheckRunSpec,
  checkRunCompletedEvent,
  type PullRequestSpec,
  postWebhook,
  pullRequestEvent,
} from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'waits';
const FULL_NAME = `${OWNER}/${REPO}`;
const SECRET = `whsec-${randomBytes(8).toString('hex')}`;
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 120_000, intervalMs: 250 };
const CONFIG_PATH = '.github/vcluster-preview.yml';

/**
 * `waitFor: { checks: [build] }` as a user sees it: signed webhooks to the running service (web +
 * worker, the real reconciler and the local provider on the test host), check runs in the GitHub
 * double, and what the pull request and the host cluster show while CI runs and after.
 */
describe('waitFor: a preview waits for the CI checks of its commit', () => {
  let github: GitHubDouble;
  let service: RunningService;
  let restoreHome: () => Promise<void>;
  const host = kubeClients(inject('hostKubeconfig'));
  // Made when used: the isolated home (VCLUSTER_PREVIEW_HOME) is set in beforeAll.
  const provider = () => localProvider({ hostKubeconfig: inject('hostKubeconfig') });

  beforeAll(async () => {
    const home = isolatedHome(inject('hostKubeconfig'), `${OWNER}.${REPO}`);
    restoreHome = home.restore;
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    const env = await serviceEnv({
      github,
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
      webhookSecret: SECRET,
    });
    const logger = pino({ level: process.env.E2E_LOG ?? 'silent' });
    const queueName = `waitfor-${randomBytes(4).toString('hex')}`;
    // The same queue name: the worker reads the heads the webhook handler noted, under the queue's keys.
    const reconcile = await defaultReconciler(loadServiceConfig(env, 'all'), logger, { queueName });
    service = await startService({
      role: 'all',
      env,
      reconcile,
      queueName,
      logger,
      handleSignals: false,
    });
  });

  afterAll(async () => {
    if (service) {
      await service.stop();
      await (service.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    }
    await restoreHome?.();
    await github?.stop();
  });

  const post = (event: string, payload: unknown) => postWebhook(service.webhookUrl!, event, payload, SECRET);
  const sticky = (pr: number) =>
    github.comments(OWNER, REPO, pr).filter((comment) => comment.body.startsWith(STICKY_MARKER));
  const waitForSticky = (pr: number, what: string, matches: (body: string) => boolean) =>
    waitUntil(async () => sticky(pr).find((comment) => matches(comment.body)), {
      what: `PR #${pr}: the sticky comment ${what}`,
      ...PREVIEW_WAIT,
    });
  const hostNamespaces = async (pr: number) =>
    (
      await host.core.listNamespace({ labelSelector: `vcluster-preview.dev/pull-request=${pr}` })
    ).items.filter((ns) => ns.metadata?.labels?.['vcluster-preview.dev/repo'] === `${OWNER}.${REPO}`);
  /** The example app, its config waiting for the `build` check. */
  const openWaitingPullRequest = async (number: number, headSha: string) => {
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number, headSha };
    await seedExample(github, OWNER, REPO, headSha);
    const config = await readFile(join(EXAMPLE_HELLO, CONFIG_PATH), 'utf8');
    github.setFile(
      OWNER,
      REPO,
      headSha,
      CONFIG_PATH,
      `${config}waitFor:\n  checks: [build]\n  timeout: 10m\n`,
    );
    github.addPullRequest(spec);
    const build = github.addCheckRun(OWNER, REPO, { name: 'build', headSha, status: 'in_progress' });
    github.addCheckRun(OWNER, REPO, { name: 'lint', headSha, status: 'completed', conclusion: 'success' });
    expect((await post('pull_request', pullRequestEvent('opened', spec))).status).toBeLessThan(300);
    return { spec, build };
  };
  /** The sticky comment says it waits, and its job is put back (not running, not failed). */
  const expectHeldBack = async (pr: number) => {
    const waiting = await waitForSticky(pr, 'waiting for check build', (body) =>
      body.includes('Waiting for check build'),
    );
    expect(waiting.body).toContain('`waitFor` in `.github/vcluster-preview.yml`');
    await waitUntil(async () => (await service.queue!.place(FULL_NAME, pr)).state === 'delayed', {
      what: `PR #${pr}: its job put back to wait`,
      ...PREVIEW_WAIT,
    });
    expect(await hostNamespaces(pr)).toEqual([]);
    expect(await provider().get(previewName(FULL_NAME, pr))).toBeUndefined();
    expect(github.deployments(OWNER, REPO).filter((d) => d.environment === `preview/pr-${pr}`)).toEqual([]);
  };
  const finish = async (build: CheckRunSpec, conclusion: string) => {
    const done = github.updateCheckRun(OWNER, REPO, build.id, { status: 'completed', conclusion });
    expect(done.pullRequests?.length).toBe(1);
    expect((await post('check_run', checkRunCompletedEvent(done))).status).toBeLessThan(300);
  };

  it('waits while build runs, with nothing made; build succeeds → the preview comes up', async () => {
    const { build } = await openWaitingPullRequest(31, sha('c'));
    await expectHeldBack(31);

    await finish(build, 'success');
    const ready = await waitForSticky(31, 'with the preview URL', (body) => body.includes('https://pr-31-'));
    expect(ready.body).toContain('Preview ready');
    expect(sticky(31)).toHaveLength(1);
    const namespaces = await hostNamespaces(31);
    expect(namespaces).toHaveLength(1);
    expect(namespaces[0]?.metadata?.annotations?.['vcluster-preview.dev/commit']).toBe(sha('c'));
  });

  it('build fails → the preview fails naming the check, and no namespace is made', async () => {
    const { build } = await openWaitingPullRequest(32, sha('d'));
    await expectHeldBack(32);

    await finish(build, 'failure');
    const failed = await waitForSticky(32, 'failed', (body) => body.includes('Preview failed'));
    expect(failed.body).toContain(
      `check build failed (failure) — details: https://github.com/${FULL_NAME}/actions/runs/${build.id}`,
    );
    expect(failed.body).toContain('re-run the check');
    await waitUntil(async () => (await service.queue!.place(FULL_NAME, 32)).state === 'none', {
      what: 'PR #32: its job finished',
      ...PREVIEW_WAIT,
    });
    expect(await hostNamespaces(32)).toEqual([]);
    expect(await provider().get(previewName(FULL_NAME, 32))).toBeUndefined();
    expect(sticky(32)).toHaveLength(1);
  });

  it('an installation without "Checks: read" → failed, saying which permission to accept', async () => {
    github.failNext({ method: 'GET', path: /\/commits\/e{40}\/check-runs$/, status: 403 });
    await openWaitingPullRequest(33, sha('e'));
    const failed = await waitForSticky(33, 'failed', (body) => body.includes('Preview failed'));
    expect(failed.body).toContain(`may not read the check runs of ${FULL_NAME}, so it cannot wait for build`);
    expect(failed.body).toContain('"Checks: read" permission');
    expect(await hostNamespaces(33)).toEqual([]);
  });
});
