import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { EXAMPLE_HELLO, seedExample } from '../support/preview-service.ts';
import {
  type CheckRunSpec,
  checkRunCompletedEvent,
  type PullRequestSpec,
  pullRequestEvent,
} from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'waits';
const FULL_NAME = `${OWNER}/${REPO}`;
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 120_000, intervalMs: 250 };
const CONFIG_PATH = '.github/vcluster-preview.yml';

/**
 * `waitFor: { checks: [build] }` as a user sees it: signed webhooks to the running service (web +
 * worker, the real reconciler and the local provider on the test host), check runs in the GitHub
 * double, and what the pull request and the host cluster show while CI runs and after.
 */
describe('waitFor: a preview waits for the CI checks of its commit', () => {
  let flow: PreviewFlow;
  // Made when used: the flow's state home (VCLUSTER_PREVIEW_HOME) is set in beforeAll.
  const provider = () => localProvider({ hostKubeconfig: inject('hostKubeconfig') });

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
    });
  });

  afterAll(async () => {
    await flow?.stop();
  });

  const waitForSticky = (pr: number, what: string, matches: (body: string) => boolean) =>
    waitUntil(async () => flow.stickyComments(pr).find((comment) => matches(comment.body)), {
      what: `PR #${pr}: the sticky comment ${what}`,
      ...PREVIEW_WAIT,
    });
  /** The example app, its config waiting for the `build` check. */
  const openWaitingPullRequest = async (number: number, headSha: string) => {
    const spec: PullRequestSpec = { owner: OWNER, repo: REPO, number, headSha };
    await seedExample(flow.github, OWNER, REPO, headSha);
    const config = await readFile(join(EXAMPLE_HELLO, CONFIG_PATH), 'utf8');
    flow.github.setFile(
      OWNER,
      REPO,
      headSha,
      CONFIG_PATH,
      `${config}waitFor:\n  checks: [build]\n  timeout: 10m\n`,
    );
    flow.github.addPullRequest(spec);
    const build = flow.github.addCheckRun(OWNER, REPO, { name: 'build', headSha, status: 'in_progress' });
    flow.github.addCheckRun(OWNER, REPO, {
      name: 'lint',
      headSha,
      status: 'completed',
      conclusion: 'success',
    });
    expect((await flow.post('pull_request', pullRequestEvent('opened', spec))).status).toBeLessThan(300);
    return { spec, build };
  };
  /** The sticky comment says it waits, and its job is put back (not running, not failed). */
  const expectHeldBack = async (pr: number) => {
    const waiting = await waitForSticky(pr, 'waiting for check build', (body) =>
      body.includes('Waiting for check build'),
    );
    expect(waiting.body).toContain('`waitFor` in `.github/vcluster-preview.yml`');
    await waitUntil(async () => (await flow.service.queue!.place(FULL_NAME, pr)).state === 'delayed', {
      what: `PR #${pr}: its job put back to wait`,
      ...PREVIEW_WAIT,
    });
    expect(await flow.hostNamespaces(pr)).toEqual([]);
    expect(await provider().get(previewName(FULL_NAME, pr))).toBeUndefined();
    expect(flow.github.deployments(OWNER, REPO).filter((d) => d.environment === `preview/pr-${pr}`)).toEqual(
      [],
    );
  };
  const finish = async (build: CheckRunSpec, conclusion: string) => {
    const done = flow.github.updateCheckRun(OWNER, REPO, build.id, { status: 'completed', conclusion });
    expect(done.pullRequests?.length).toBe(1);
    expect((await flow.post('check_run', checkRunCompletedEvent(done))).status).toBeLessThan(300);
  };

  it('waits while build runs, with nothing made; build succeeds → the preview comes up', async () => {
    const { build } = await openWaitingPullRequest(31, sha('c'));
    await expectHeldBack(31);

    await finish(build, 'success');
    const ready = await waitForSticky(31, 'with the preview URL', (body) => body.includes('https://pr-31-'));
    expect(ready.body).toContain('Preview ready');
    expect(flow.stickyComments(31)).toHaveLength(1);
    const namespaces = await flow.hostNamespaces(31);
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
    await waitUntil(async () => (await flow.service.queue!.place(FULL_NAME, 32)).state === 'none', {
      what: 'PR #32: its job finished',
      ...PREVIEW_WAIT,
    });
    expect(await flow.hostNamespaces(32)).toEqual([]);
    expect(await provider().get(previewName(FULL_NAME, 32))).toBeUndefined();
    expect(flow.stickyComments(32)).toHaveLength(1);
  });

  it('an installation without "Checks: read" → failed, saying which permission to accept', async () => {
    flow.github.failNext({ method: 'GET', path: /\/commits\/e{40}\/check-runs$/, status: 403 });
    await openWaitingPullRequest(33, sha('e'));
    const failed = await waitForSticky(33, 'failed', (body) => body.includes('Preview failed'));
    expect(failed.body).toContain(`may not read the check runs of ${FULL_NAME}, so it cannot wait for build`);
    expect(failed.body).toContain('"Checks: read" permission');
    expect(await flow.hostNamespaces(33)).toEqual([]);
  });
});
