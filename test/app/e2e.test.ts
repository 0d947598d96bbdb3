import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultReconciler } from '../../app/default-reconciler.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { loadServiceConfig } from '../../app/service-config.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { freePort, pidsMentioning } from '../../controlplane/index.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { kubeconfigFile } from '../support/kubectl.ts';
import { postWebhook, pullRequestEvent } from '../support/webhooks.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'hello');
const OWNER = 'acme';
const REPO = 'hello';
const SECRET = `whsec-${randomBytes(8).toString('hex')}`;
const sha = (seed: string) => seed.repeat(40).slice(0, 40);

async function exampleFiles(dir = EXAMPLE): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await exampleFiles(path)));
    else out.push(relative(EXAMPLE, path));
  }
  return out;
}

/** The whole way: a signed webhook, the running service (web + worker), a virtual cluster, the URL. */
describe('pull request opened → preview URL in the sticky comment', () => {
  let github: GitHubDouble;
  let service: RunningService;
  let previousHome: string | undefined;

  beforeAll(async () => {
    previousHome = process.env.VCLUSTER_PREVIEW_HOME;
    process.env.VCLUSTER_PREVIEW_HOME = `/tmp/vcp-e2e-${randomBytes(4).toString('hex')}`;
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    for (const path of await exampleFiles()) {
      github.setFile(OWNER, REPO, sha('1'), path, await readFile(join(EXAMPLE, path), 'utf8'));
    }
    const env = {
      APP_ID: '1',
      PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
      WEBHOOK_SECRET: SECRET,
      GHE_HOST: github.host,
      GHE_PROTOCOL: 'http',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      REDIS_URL: inject('redisUrl'),
      KUBECONFIG: await kubeconfigFile(inject('hostKubeconfig')),
      BASE_DOMAIN: 'preview.test',
      VCLUSTER_PROVIDER: 'local',
      LOG_LEVEL: 'silent',
    };
    const logger = pino({ level: 'silent' });
    const reconcile = await defaultReconciler(loadServiceConfig(env, 'all'), logger);
    service = await startService({
      role: 'all',
      env,
      reconcile,
      queueName: `e2e-${randomBytes(4).toString('hex')}`,
      logger,
      handleSignals: false,
    });
  });

  afterAll(async () => {
    if (service) {
      await service.stop();
      await (service.queue as PreviewQueue | undefined)?.queue.obliterate({ force: true }).catch(() => {});
    }
    // A failed run must not leave its preview behind: delete what this test's home still holds.
    const home = process.env.VCLUSTER_PREVIEW_HOME!;
    const provider = localProvider({
      hostKubeconfig: inject('hostKubeconfig'),
      stateRoot: join(home, 'vclusters'),
    });
    for (const cluster of await provider.list()) {
      if (cluster.labels['vcluster-preview.dev/pull-request'] === '7') await provider.delete(cluster);
    }
    for (const pid of pidsMentioning(home)) process.kill(pid, 'SIGKILL');
    await rm(home, { recursive: true, force: true });
    await github?.stop();
    if (previousHome === undefined) delete process.env.VCLUSTER_PREVIEW_HOME;
    else process.env.VCLUSTER_PREVIEW_HOME = previousHome;
  });

  it('deploys the example app, reports the URL and a successful deployment, and tears it all down on close', async () => {
    const spec = { owner: OWNER, repo: REPO, number: 7, headSha: sha('1') };
    github.addPullRequest(spec);
    const opened = await postWebhook(
      service.webhookUrl!,
      'pull_request',
      pullRequestEvent('opened', spec),
      SECRET,
    );
    expect(opened.status).toBeLessThan(300);

    const comment = await waitUntil(
      async () =>
        github
          .comments(OWNER, REPO, 7)
          .find((c) => c.body.startsWith(STICKY_MARKER) && c.body.includes('https://pr-7-')),
      { what: 'the sticky comment with the preview URL', timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(comment.body).toMatch(/https:\/\/pr-7-[a-z0-9-]*hello[a-z0-9-]*\.preview\.test/);
    const deployment = await waitUntil(
      async () => {
        const [first] = github.deployments(OWNER, REPO);
        return first?.statuses.at(-1)?.state === 'success' ? first : undefined;
      },
      { what: 'a successful deployment status' },
    );
    expect(deployment.environment).toBe('preview/pr-7');
    expect(deployment.statuses.at(-1)?.environment_url).toMatch(/^https:\/\/pr-7-/);

    const host = kubeClients(inject('hostKubeconfig'));
    const namespaces = await host.core.listNamespace({
      labelSelector: 'vcluster-preview.dev/pull-request=7',
    });
    expect(namespaces.items).toHaveLength(1);
    const namespace = namespaces.items[0]!.metadata!.name!;

    const closed = await postWebhook(
      service.webhookUrl!,
      'pull_request',
      pullRequestEvent('closed', spec),
      SECRET,
    );
    expect(closed.status).toBeLessThan(300);
    await waitUntil(() => isGone(() => host.core.readNamespace({ name: namespace })), {
      what: `preview namespace ${namespace} deleted`,
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    await waitUntil(async () => github.deployments(OWNER, REPO)[0]?.statuses.at(-1)?.state === 'inactive', {
      what: 'the deployment marked inactive',
    });
  });
});
