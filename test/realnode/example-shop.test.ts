import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { checkRunCompletedEvent, type PullRequestSpec, pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'acme';
const REPO = 'shop';
const EXAMPLE_SHOP = join(import.meta.dirname, '..', '..', 'examples', 'shop');
const MIGRATION = 'deploy/base/migrate.yaml';
const sha = (seed: string) => seed.repeat(40).slice(0, 40);
const PREVIEW_WAIT = { timeoutMs: 240_000, intervalMs: 500 };
const OPERATOR_NAMESPACE = 'shop-operator';

/**
 * `examples/shop`, a repository laid out as a real one is (kustomize base and overlay, a database,
 * a migration Job as a Helm hook, a seed Job, the operator's payments key from a host Secret), previewed through signed webhooks on the real node: the page its
 * URL serves is written by real containers from what the migration put in the database, and a
 * migration that fails is reported on the pull request with its own log lines.
 */
describe('examples/shop on the real node', () => {
  let flow: PreviewFlow;
  const hostKubeconfig = inject('realHostKubeconfig');
  const host = kubeClients(hostKubeconfig);

  beforeAll(async () => {
    // The operator's payments key, a host Secret its PREVIEW_HOST_SECRETS allows for acme/shop.
    await host.core.createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } });
    await host.core.createNamespacedSecret({
      namespace: OPERATOR_NAMESPACE,
      body: {
        metadata: { name: 'shop-payments' },
        stringData: { 'api-key': 'pk_test_operator', 'admin-token': 'never-copied' },
      },
    });
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig,
      ingressUrl: inject('ingressUrl'),
      redisUrl: inject('redisUrl'),
      provider: 'local',
      deployTimeoutMs: PREVIEW_WAIT.timeoutMs,
      settings: {
        PREVIEW_HOST_SECRETS: JSON.stringify({ [`${OWNER}/${REPO}`]: ['shop-payments'] }),
        PREVIEW_HOST_SECRETS_NAMESPACE: OPERATOR_NAMESPACE,
      },
    });
  });

  afterAll(async () => {
    await flow?.stop();
    await host.core.deleteNamespace({ name: OPERATOR_NAMESPACE }).catch(() => {});
  });

  /** CI's build of `headSha`, as the example's `waitFor` waits for it. */
  const build = (headSha: string, status: 'in_progress' | 'completed') =>
    flow.github.addCheckRun(OWNER, REPO, {
      name: 'build',
      headSha,
      status,
      ...(status === 'completed' ? { conclusion: 'success' } : {}),
    });

  it('opened → waits for CI’s build; then kustomize renders it, the migration runs after the install, the page shows the commit and the schema; a push migrates before the new web', async () => {
    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 1, headSha: sha('a') };
    await seedExample(flow.github, OWNER, REPO, pr.headSha, EXAMPLE_SHOP);
    flow.github.addPullRequest(pr);
    const running = build(pr.headSha, 'in_progress');
    expect((await flow.post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);

    // Until CI's build succeeds the preview waits, and nothing is made on the host.
    await waitUntil(async () => flow.stickyBody(1).includes('Waiting for check build') || undefined, {
      what: 'PR #1: the sticky comment says it waits for the build',
      ...PREVIEW_WAIT,
    });
    expect(await flow.hostNamespaces(1)).toEqual([]);
    const built = flow.github.updateCheckRun(OWNER, REPO, running.id, {
      status: 'completed',
      conclusion: 'success',
    });
    expect((await flow.post('check_run', checkRunCompletedEvent(built))).status).toBeLessThan(300);

    const url = (await flow.successFor(1, pr.headSha)).environment_url!;
    const page = await flow.pageShowing(url, pr.headSha);
    expect(page).toContain(`Shop, pull request #1 at commit ${pr.headSha}`);
    expect(page).toContain('schema version: 2');
    // The seed ran after the first deploy; the operator's key reached the web, and only that key.
    expect(page).toContain('products: 3');
    expect(page).toContain('payments key: configured');
    const virtual = await flow.virtual(1);
    const copied = await virtual.core.readNamespacedSecret({ name: 'shop-payments', namespace: 'default' });
    expect(Object.keys(copied.data ?? {})).toEqual(['api-key']);

    // kustomize's generated ConfigMap (named by its content) is what the web mounts.
    const [namespace] = (await flow.hostNamespaces(1)).map((ns) => ns.metadata!.name!);
    const configMaps = (await host.core.listNamespacedConfigMap({ namespace: namespace! })).items;
    expect(
      configMaps.some((cm) =>
        /^shop-site-[a-z0-9]{10}$/.test(cm.metadata?.annotations?.['vcluster.loft.sh/object-name'] ?? ''),
      ),
    ).toBe(true);

    const pushed = { ...pr, headSha: sha('b') };
    await seedExample(flow.github, OWNER, REPO, pushed.headSha, EXAMPLE_SHOP);
    build(pushed.headSha, 'completed');
    flow.github.updatePullRequest(OWNER, REPO, 1, { headSha: pushed.headSha });
    await flow.post('pull_request', pullRequestEvent('synchronize', pushed, { before: pr.headSha }));
    await flow.successFor(1, pushed.headSha);
    const after = await flow.pageShowing(url, pushed.headSha);
    expect(after).toContain('schema version: 2');
    // A push does not seed again: the products are the first deploy's three.
    expect(after).toContain('products: 3');
  }, 480_000);

  it('a migration that fails → the pull request is told so, with the migration’s own log lines', async () => {
    const pr: PullRequestSpec = { owner: OWNER, repo: REPO, number: 2, headSha: sha('c') };
    await seedExample(flow.github, OWNER, REPO, pr.headSha, EXAMPLE_SHOP);
    const migration = await readFile(join(EXAMPLE_SHOP, MIGRATION), 'utf8');
    const broken = migration.replace(
      /reply=\$\(printf 'SET schema_version 2.*\n/,
      'echo "ERROR: column products.price does not exist" >&2; exit 3\n',
    );
    expect(broken).not.toBe(migration);
    flow.github.setFile(OWNER, REPO, pr.headSha, MIGRATION, broken);
    build(pr.headSha, 'completed');
    flow.github.addPullRequest(pr);
    await flow.post('pull_request', pullRequestEvent('opened', pr));

    const sticky = await waitUntil(
      async () => (flow.stickyBody(2).includes('❌ Preview failed') ? flow.stickyBody(2) : undefined),
      { what: 'PR #2: the sticky comment reports the failure', ...PREVIEW_WAIT },
    );
    expect(sticky).toMatch(/Job\/?\s*(default\/)?migrate/i);
    expect(sticky).toContain("migrating the shop's schema to version 2");
    expect(sticky).toContain('ERROR: column products.price does not exist');
    expect(flow.successesOf(pr.headSha)).toBe(0);
  }, 480_000);
});
