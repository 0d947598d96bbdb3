import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultReconciler } from '../../app/default-reconciler.ts';
import { previewName } from '../../app/desired-state.ts';
import type { PreviewQueue } from '../../app/queue/preview-queue.ts';
import { type RunningService, startService } from '../../app/serve.ts';
import { loadServiceConfig } from '../../app/service-config.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double.ts';
import { isolatedHome, seedExample, serviceEnv } from '../support/preview-service.ts';
import { type PullRequestSpec, postWebhook, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'secrets';
const FULL_NAME = `${OWNER}/${REPO}`;
const WEBHOOK_SECRET = `whsec-${randomBytes(8).toString('hex')}`;
const HOST_NAMESPACE = `operator-secrets-${randomBytes(3).toString('hex')}`;
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 120_000, intervalMs: 250 };

/** The example app's config with `secrets:` added, and `forks: always` so a fork deploys unapproved. */
const configWith = (secrets: string) => `manifests: deploy/
expose:
  service: hello
  port: 80
forks: always
secrets:
${secrets}`;

const ALLOWED = `  - fromHostSecret: db-creds
    keys: [username, password]
    as: app-db
    namespace: shop
`;

/**
 * Operator Secrets copied into previews, through signed webhooks to the running service: the
 * operator's PREVIEW_HOST_SECRETS allows `db-creds` for this repository, read from a host namespace
 * of its own; what the pull request gets is read back from its virtual cluster.
 */
describe('host Secrets in previews', () => {
  let github: GitHubDouble;
  let service: RunningService;
  let restoreHome: () => Promise<void>;
  const host = kubeClients(inject('hostKubeconfig'));

  beforeAll(async () => {
    await host.core.createNamespace({ body: { metadata: { name: HOST_NAMESPACE } } });
    await host.core.createNamespacedSecret({
      namespace: HOST_NAMESPACE,
      body: {
        metadata: { name: 'db-creds' },
        stringData: {
          username: 'shop',
          password: 'pa55-from-the-operator',
          'admin-password': 'never-copied',
        },
      },
    });
    await host.core.createNamespacedSecret({
      namespace: HOST_NAMESPACE,
      body: { metadata: { name: 'prod-db' }, stringData: { password: 'production' } },
    });
    const home = isolatedHome(inject('hostKubeconfig'), `${OWNER}.${REPO}`);
    restoreHome = home.restore;
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO, { installationId: 1 });
    const env = {
      ...(await serviceEnv({
        github,
        hostKubeconfig: inject('hostKubeconfig'),
        redisUrl: inject('redisUrl'),
        webhookSecret: WEBHOOK_SECRET,
      })),
      PREVIEW_HOST_SECRETS: JSON.stringify({ [FULL_NAME]: ['db-creds'], 'other/*': ['prod-db'] }),
      PREVIEW_HOST_SECRETS_NAMESPACE: HOST_NAMESPACE,
    };
    const logger = pino({ level: process.env.E2E_LOG ?? 'silent' });
    const reconcile = await defaultReconciler(loadServiceConfig(env, 'all'), logger);
    service = await startService({
      role: 'all',
      env,
      reconcile,
      queueName: `host-secrets-${randomBytes(4).toString('hex')}`,
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
    await host.core.deleteNamespace({ name: HOST_NAMESPACE }).catch(() => {});
  });

  const stickyBody = (pr: number) =>
    github.comments(OWNER, REPO, pr).find((c) => c.body.startsWith(STICKY_MARKER))?.body ?? '';
  const waitForSticky = (pr: number, what: string, matches: (body: string) => boolean) =>
    waitUntil(async () => (matches(stickyBody(pr)) ? stickyBody(pr) : undefined), {
      what: `PR #${pr}: the sticky comment ${what}`,
      ...PREVIEW_WAIT,
    });
  const hostNamespaces = async (pr: number) =>
    (
      await host.core.listNamespace({ labelSelector: `vcluster-preview.dev/pull-request=${pr}` })
    ).items.filter((ns) => ns.metadata?.labels?.['vcluster-preview.dev/repo'] === `${OWNER}.${REPO}`);
  const virtualClient = async (pr: number) =>
    kubeClients(
      await localProvider({ hostKubeconfig: inject('hostKubeconfig') }).kubeconfig(
        previewName(FULL_NAME, pr),
      ),
    );
  /** Opens a pull request whose config (at `ref`: the head commit, or the base branch for a fork) is `config`. */
  const openPullRequest = async (
    spec: Omit<PullRequestSpec, 'owner' | 'repo'>,
    config: string,
    ref: string,
  ) => {
    const full = { owner: OWNER, repo: REPO, ...spec };
    await seedExample(github, OWNER, REPO, spec.headSha);
    if (ref !== spec.headSha) await seedExample(github, OWNER, REPO, ref);
    github.setFile(OWNER, REPO, ref, '.github/vcluster-preview.yml', config);
    github.addPullRequest(full);
    const response = await postWebhook(
      service.webhookUrl!,
      'pull_request',
      pullRequestEvent('opened', full),
      WEBHOOK_SECRET,
    );
    expect(response.status).toBeLessThan(300);
    return full;
  };

  it('an allowed host Secret arrives in the virtual cluster with the listed keys only', async () => {
    await openPullRequest({ number: 1, headSha: sha('1') }, configWith(ALLOWED), sha('1'));
    const body = await waitForSticky(1, 'with the preview URL', (text) => text.includes('https://pr-1-'));
    expect(body).not.toContain('withheld');

    const virtual = await virtualClient(1);
    const copied = await virtual.core.readNamespacedSecret({ name: 'app-db', namespace: 'shop' });
    const decoded = Object.fromEntries(
      Object.entries(copied.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
    );
    expect(decoded).toEqual({ username: 'shop', password: 'pa55-from-the-operator' });
    expect(copied.metadata?.annotations?.['vcluster-preview.dev/copied-from-host-secret']).toBe(
      `${HOST_NAMESPACE}/db-creds`,
    );
  });

  it('a host Secret the operator did not allow fails the config, naming it and the setting, and leaves no preview', async () => {
    await openPullRequest(
      { number: 2, headSha: sha('2') },
      configWith('  - { fromHostSecret: prod-db, keys: [password] }\n'),
      sha('2'),
    );
    const body = await waitForSticky(2, 'saying the preview failed', (text) =>
      text.includes('Preview failed'),
    );
    expect(body).toContain(
      "secrets: the host Secret prod-db is not allowed for acme/secrets by the service's PREVIEW_HOST_SECRETS setting (allowed: db-creds)",
    );
    expect(body).not.toContain('production');
    expect(await hostNamespaces(2)).toEqual([]);
  });

  it('an allowed name with a key the host Secret lacks fails with what it has', async () => {
    await openPullRequest(
      { number: 3, headSha: sha('3') },
      configWith('  - { fromHostSecret: db-creds, keys: [username, pasword] }\n'),
      sha('3'),
    );
    const body = await waitForSticky(3, 'saying the preview failed', (text) =>
      text.includes('Preview failed'),
    );
    expect(body).toContain(
      `the host Secret ${HOST_NAMESPACE}/db-creds has no key pasword (it has admin-password, password, username)`,
    );
    expect(body).not.toContain('pa55-from-the-operator');
    // The config was bad, so the virtual cluster this run made is gone again.
    await waitUntil(async () => (await hostNamespaces(3)).length === 0 || undefined, {
      what: 'the failed preview taken away',
      ...PREVIEW_WAIT,
    });
  });

  it('a pull request from a fork gets no host Secret, and the sticky comment says which were withheld and why', async () => {
    await openPullRequest(
      { number: 4, headSha: sha('4'), forkOwner: 'stranger', author: 'stranger', baseRef: 'main' },
      configWith(ALLOWED),
      'main',
    );
    const body = await waitForSticky(4, 'with the preview URL', (text) => text.includes('https://pr-4-'));
    expect(body).toContain(
      'Host Secret db-creds was withheld: this pull request comes from a fork, and host Secrets are never given to code from forks.',
    );
    const virtual = await virtualClient(4);
    expect(await isGone(() => virtual.core.readNamespacedSecret({ name: 'app-db', namespace: 'shop' }))).toBe(
      true,
    );
  });
});
