import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, pidsMentioning } from '../../controlplane/index.ts';
import { waitUntil } from '../../kube/wait.ts';
import { openBrowser, shoot } from '../support/browser.ts';
import { CLI, spawnCli } from '../support/cli-process.ts';
import { openThroughIngress } from '../support/ingress.ts';
import { runBinary } from '../support/kubectl.ts';

const run = promisify(execFile);

/** `npm start` is `vcluster-preview up`: the README's first command, on a home of its own. */
describe('vcluster-preview up (npm start)', () => {
  let home: string;
  let workdir: string;
  const env = () => {
    const clean: Record<string, string | undefined> = { ...process.env, VCLUSTER_PREVIEW_HOME: home };
    for (const name of [
      'APP_ID',
      'PRIVATE_KEY',
      'PRIVATE_KEY_PATH',
      'WEBHOOK_SECRET',
      'REDIS_URL',
      'KUBECONFIG',
    ])
      delete clean[name];
    return clean;
  };
  const cli = (args: string[]) => run(process.execPath, [CLI, ...args], { cwd: workdir, env: env() });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'vcp-up-home-'));
    workdir = await mkdtemp(join(tmpdir(), 'vcp-up-cwd-'));
  });
  afterAll(async () => {
    await cli(['host', 'down']).catch(() => {});
    for (const pid of pidsMentioning(home)) process.kill(pid, 'SIGKILL');
    await rm(home, { recursive: true, force: true });
    await rm(workdir, { recursive: true, force: true });
  });

  it('on a fresh home without the GitHub App: the host (real node) and Redis, the service, and examples/hello previewed at a URL that answers; Ctrl-C stops the service', async () => {
    const ingressPort = await freePort();
    const port = await freePort();
    const {
      child: service,
      output: printed,
      exited,
    } = spawnCli(['up', '--nodes', '1', '--ingress-port', String(ingressPort)], {
      cwd: workdir,
      env: { ...env(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    });
    const url = await waitUntil(
      async () =>
        printed().match(/is ready at (http:\/\/\S+)/)?.[1] ??
        (service.exitCode !== null || printed().includes('error:') ? null : undefined),
      { what: `the example's preview (output so far: ${printed()})`, timeoutMs: 600_000, intervalMs: 500 },
    );
    expect(url, printed()).toBe(`http://pr-0-hello-local.preview.localhost:${ingressPort}`);
    expect(printed()).toContain(`their URLs are served at http://127.0.0.1:${ingressPort}`);
    expect(printed()).toContain(`The service is running at http://127.0.0.1:${port}/`);
    expect(printed()).toContain(
      'To serve your GitHub App here, set APP_ID, PRIVATE_KEY_PATH, WEBHOOK_SECRET',
    );

    const status = JSON.parse((await cli(['host', 'status', '-o', 'json'])).stdout) as {
      running: boolean;
      kubeconfig: string;
      redisUrl: string;
      realNode: boolean;
      ingressUrl: string;
    };
    expect(status.running).toBe(true);
    expect(status.realNode).toBe(true);
    expect(status.ingressUrl).toBe(`http://127.0.0.1:${ingressPort}`);
    const nodes = await runBinary('kubectl', ['get', 'nodes', '-o', 'name'], {
      kubeconfig: status.kubeconfig,
    });
    expect(nodes.trim().split('\n').sort()).toEqual(['node/kwok-node-0', 'node/real-node']);
    // The URL answers with the example's page, served by real containers through the ingress controller.
    const page = await openThroughIngress(url!, status.ingressUrl);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Hello from pull request #0</h1>');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // The status page, open on the embedded host, lists the example's preview with its URL, as a
    // browser shows it; its link leads to the preview's own page with every step done.
    const browser = await openBrowser();
    try {
      const { page } = browser;
      expect((await page.goto(`http://127.0.0.1:${port}/`))?.status()).toBe(200);
      const card = page.locator('article', { hasText: 'working tree hello' });
      expect(await card.textContent()).toContain('ready');
      expect(await card.getByRole('link', { name: url! }).getAttribute('href')).toBe(url);
      await shoot(page, 'npm-start-status-page.png');
      await card.getByRole('link', { name: /^working tree hello/ }).click();
      await page.waitForURL(/\/previews\//);
      const steps = await page.locator('tr.step').allTextContents();
      expect(steps).toHaveLength(4);
      for (const [index, step] of ['Read config', 'Virtual cluster', 'Deploy', 'Expose'].entries())
        expect(steps[index]).toMatch(new RegExp(`^${step}done`));
    } finally {
      await browser.close();
    }
    const redis = new Redis(status.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }

    service.kill('SIGINT');
    expect(await exited).toBe(0);
    // The host cluster and the preview outlive the service, until `host down`.
    expect((await openThroughIngress(url!, status.ingressUrl)).status).toBe(200);
  });

  it('with them in .env: serves webhooks on the running host until SIGTERM; host down stops it all', async () => {
    const keyPath = join(workdir, 'app-key.pem');
    await writeFile(
      keyPath,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const port = await freePort();
    await writeFile(
      join(workdir, '.env'),
      `APP_ID=4242\nPRIVATE_KEY_PATH=${keyPath}\nWEBHOOK_SECRET=s3cret\nPORT=${port}\nHOST=127.0.0.1\nLOG_LEVEL=warn\n`,
    );
    // The host from the first test is still running: `up` uses it as it is.
    const {
      child: service,
      output: printed,
      exited,
    } = spawnCli(['up', '--no-example'], {
      cwd: workdir,
      env: env(),
    });
    await waitUntil(
      async () => printed().includes(`listening for webhooks on http://127.0.0.1:${port}`) || undefined,
      {
        what: `the service listening (output so far: ${printed()})`,
        timeoutMs: 60_000,
      },
    );
    // An unsigned delivery is refused: the webhook secret from .env is in force.
    const unsigned = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': '1' },
      body: '{}',
    });
    expect(unsigned.status).toBeGreaterThanOrEqual(400);
    expect(unsigned.status).toBeLessThan(500);

    service.kill('SIGTERM');
    expect(await exited).toBe(0);

    expect((await cli(['host', 'down'])).stdout).toContain('host cluster stopped');
    const status = JSON.parse((await cli(['host', 'status', '-o', 'json'])).stdout) as { running: boolean };
    expect(status.running).toBe(false);
    await waitUntil(async () => pidsMentioning(home).length === 0 || undefined, {
      what: 'no process of the host cluster or its Redis left',
    });
  });
});
