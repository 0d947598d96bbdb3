import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'secrets';
const FULL_NAME = `${OWNER}/${REPO}`;
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
  let flow: PreviewFlow;
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
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
      settings: {
        PREVIEW_HOST_SECRETS: JSON.stringify({ [FULL_NAME]: ['db-creds'], 'other/*': ['prod-db'] }),
        PREVIEW_HOST_SECRETS_NAMESPACE: HOST_NAMESPACE,
      },
    });
  });

  afterAll(async () => {
    await flow?.stop();
    await host.core.deleteNamespace({ name: HOST_NAMESPACE }).catch(() => {});
  });

  const waitForSticky = (pr: number, what: string, matches: (body: string) => boolean) =>
    waitUntil(async () => (matches(flow.stickyBody(pr)) ? flow.stickyBody(pr) : undefined), {
      what: `PR #${pr}: the sticky comment ${what}`,
      ...PREVIEW_WAIT,
    });
  /** Opens a pull request whose config (at `ref`: the head commit, or the base branch for a fork) is `config`. */
  const openPullRequest = async (
    spec: Omit<PullRequestSpec, 'owner' | 'repo'>,
    config: string,
    ref: string,
  ) => {
    const full = { owner: OWNER, repo: REPO, ...spec };
    await seedExample(flow.github, OWNER, REPO, spec.headSha);
    if (ref !== spec.headSha) await seedExample(flow.github, OWNER, REPO, ref);
    flow.github.setFile(OWNER, REPO, ref, '.github/vcluster-preview.yml', config);
    flow.github.addPullRequest(full);
    const response = await flow.post('pull_request', pullRequestEvent('opened', full));
    expect(response.status).toBeLessThan(300);
    return full;
  };

  it('an allowed host Secret arrives in the virtual cluster with the listed keys only', async () => {
    await openPullRequest({ number: 1, headSha: sha('1') }, configWith(ALLOWED), sha('1'));
    const body = await waitForSticky(1, 'with the preview URL', (text) => text.includes('https://pr-1-'));
    expect(body).not.toContain('withheld');

    const virtual = await flow.virtual(1);
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
    expect(await flow.hostNamespaces(2)).toEqual([]);
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
    await waitUntil(async () => (await flow.hostNamespaces(3)).length === 0 || undefined, {
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
    const virtual = await flow.virtual(4);
    expect(await isGone(() => virtual.core.readNamespacedSecret({ name: 'app-db', namespace: 'shop' }))).toBe(
      true,
    );
  });
});
