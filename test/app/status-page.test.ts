import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { deleteTreePreview, previewTree } from '../../preview/tree-preview.ts';
import { openBrowser, shoot } from '../support/browser.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { EXAMPLE_HELLO, seedExample } from '../support/preview-service.ts';
import { pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'status';
const LOGIN = { username: 'operator', password: `pw-${randomBytes(6).toString('hex')}` };
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 180_000, intervalMs: 500 };
/** A label value the API server refuses, and echoes in its error: untrusted text that must stay text. */
const HOSTILE = '<script>alert(1)</script>';
/** A working tree previewed beside the pull requests, as `vcluster-preview preview examples/hello` does. */
const TREE = 'status-tree';

/** The example's Deployment with a label no API server accepts: the deploy step fails, for good. */
const REFUSED_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  labels:
    app: hello
    note: "${HOSTILE}"
spec:
  replicas: 1
  selector:
    matchLabels: { app: hello }
  template:
    metadata:
      labels: { app: hello }
    spec:
      containers:
        - name: nginx
          image: nginxinc/nginx-unprivileged:1.27
`;

/**
 * The status page the way an operator opens it: the service (web + worker, the real reconciler and
 * the local provider on the kwok host) serves one pull request that deploys and one whose manifests
 * the API server refuses; headless Chromium opens `/` with the login, follows the links, and leaves
 * a screenshot in the test run's folder.
 */
describe('the status page', () => {
  let flow: PreviewFlow;
  let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
      settings: { STATUS_PAGE_AUTH: `${LOGIN.username}:${LOGIN.password}` },
    });
  });

  afterAll(async () => {
    await browser?.close();
    await deleteTreePreview(localProvider({ hostKubeconfig: inject('hostKubeconfig') }), TREE).catch(
      () => {},
    );
    await flow?.stop();
  });

  const openPullRequest = async (number: number, headSha: string, files: Record<string, string> = {}) => {
    const spec = { owner: OWNER, repo: REPO, number, headSha };
    await seedExample(flow.github, OWNER, REPO, headSha);
    for (const [path, text] of Object.entries(files)) flow.github.setFile(OWNER, REPO, headSha, path, text);
    flow.github.addPullRequest(spec);
    const response = await flow.post('pull_request', pullRequestEvent('opened', spec));
    expect(response.status).toBeLessThan(300);
  };
  const basic = `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64')}`;

  it('lists the running preview with working links and the failed one with its error, behind the login', async () => {
    await openPullRequest(1, sha('1'));
    await openPullRequest(2, sha('2'), { 'deploy/deployment.yaml': REFUSED_DEPLOYMENT });
    const tree = previewTree(
      {
        provider: localProvider({ hostKubeconfig: inject('hostKubeconfig') }),
        hostKubeconfig: inject('hostKubeconfig'),
        baseDomain: 'preview.test',
      },
      { dir: EXAMPLE_HELLO, name: TREE },
    );
    tree.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    const deployed = await waitUntil(
      async () =>
        flow.github
          .deployments(OWNER, REPO)
          .filter((d) => d.environment === 'preview/pr-1')
          .flatMap((d) => d.statuses)
          .find((s) => s.state === 'success'),
      { what: 'PR #1: a successful deployment', ...PREVIEW_WAIT },
    );
    const previewUrl = deployed.environment_url!;
    expect(previewUrl).toMatch(/^https:\/\/pr-1-.*\.preview\.test/);
    await waitUntil(
      async () => (await flow.service.queue!.queue.getJobs(['failed'])).find((job) => job.data.pr === 2),
      { what: 'PR #2: its job failed', ...PREVIEW_WAIT },
    );
    const treeUrl = (await tree).url!;

    // The login: none or a wrong one is refused with a Basic challenge, the right one is let in.
    const root = `${flow.service.url}/`;
    const anonymous = await fetch(root);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const wrong = await fetch(root, {
      headers: { authorization: `Basic ${Buffer.from(`${LOGIN.username}:nope`).toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const allowed = await fetch(root, { headers: { authorization: basic } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-type')).toMatch(/^text\/html/);
    const gone = await fetch(`${root}previews/pr-acme--status-99`, { headers: { authorization: basic } });
    expect(gone.status).toBe(404);
    expect(await gone.text()).toContain('No preview pr-acme--status-99');
    expect((await fetch(root, { method: 'POST', headers: { authorization: basic } })).status).toBe(405);
    // Probes and webhooks are not behind the page's login.
    expect((await fetch(`${flow.service.url}/healthz`)).status).toBe(200);

    browser = await openBrowser({ httpCredentials: LOGIN });
    const { page } = browser;
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    expect((await page.goto(root))?.status()).toBe(200);

    const running = page.locator('article', { hasText: `${OWNER}/${REPO} #1` });
    await expect.poll(() => running.textContent()).toContain('ready');
    expect(await running.getByRole('link', { name: previewUrl }).getAttribute('href')).toBe(previewUrl);
    expect(await running.textContent()).toContain(sha('1').slice(0, 12));
    const failed = page.locator('article', { hasText: `${OWNER}/${REPO} #2` });
    const failedText = await failed.textContent();
    expect(failedText).toContain('failed');
    expect(failedText).toContain('Deploy failed');
    // The API server's words, with the pull request's text in them, shown as text and never run.
    expect(failedText).toContain(HOSTILE);
    expect(await page.locator('script').count()).toBe(0);
    // The working tree's preview, from its namespace's marks alone (no job: the CLI ran it).
    const treeCard = page.locator('article', { hasText: `working tree ${TREE} (${EXAMPLE_HELLO})` });
    expect(await treeCard.textContent()).toContain('ready');
    expect(await treeCard.getByRole('link', { name: treeUrl }).getAttribute('href')).toBe(treeUrl);
    expect(await page.locator('body').textContent()).toMatch(
      /Queue: \d+ waiting\d+ active\d+ delayed\d+ failed/,
    );

    const screenshot = await shoot(page, 'status-page.png');
    expect((await stat(screenshot)).size).toBeGreaterThan(5000);

    // The running preview's link leads to its page: the step timeline, every step done.
    await running.getByRole('link', { name: `${OWNER}/${REPO} #1` }).click();
    await page.waitForURL(/\/previews\/pr-acme--status-1$/);
    const steps = await page.locator('tr.step').allTextContents();
    expect(steps.map((step) => step.replace(/\d[\d.]* (ms|s)|\dm \d\ds/, '').trim())).toEqual([
      'Read configdone',
      'Virtual clusterdone',
      'Deploydone',
      'Exposedone',
    ]);
    expect(await page.locator('body').textContent()).toContain('preview-pr-1-');
    await shoot(page, 'status-page-pr-1.png');

    // And back, then to the failed one: its whole error and what to do about it.
    await page.getByRole('link', { name: '← all previews' }).click();
    await page.waitForURL(root);
    await page
      .locator('article', { hasText: `${OWNER}/${REPO} #2` })
      .getByRole('link', { name: `${OWNER}/${REPO} #2` })
      .click();
    await page.waitForURL(/\/previews\/pr-acme--status-2$/);
    expect(await page.locator('pre.error').textContent()).toContain(HOSTILE);
    expect(await page.locator('p.hint').textContent()).toMatch(/push a commit/i);
    expect(await page.locator('tr.step', { hasText: 'Deploy' }).textContent()).toContain('failed');
    await shoot(page, 'status-page-pr-2.png');

    // The working tree's page: the steps of its last run.
    expect((await page.goto(`${root}previews/tree-${TREE}`))?.status()).toBe(200);
    expect(await page.locator('tr.step').allTextContents()).toEqual([
      expect.stringMatching(/^Read configdone/),
      expect.stringMatching(/^Virtual clusterdone/),
      expect.stringMatching(/^Deploydone/),
      expect.stringMatching(/^Exposedone/),
    ]);
    expect(dialogs).toEqual([]);
  }, 360_000);
});
