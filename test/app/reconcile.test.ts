import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Octokit } from '@octokit/rest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { BadConfigError } from '../../app/errors/bad-config-error.ts';
import type { PreviewJob } from '../../app/queue/preview-job.ts';
import { createReconciler, type Reconciler, type ReconcilerDeps } from '../../app/reconcile/index.ts';
import { STICKY_MARKER } from '../../app/sticky-comment.ts';
import { isNotFound, kubeClients } from '../../kube/client.ts';
import { annotations, labels, type VirtualClusterProvider } from '../../preview/provider.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { type GitHubDouble, REPO_CONFIG_ROUTE, startGitHubDouble } from '../support/github-double.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'hello');
const OWNER = 'octo';
const REPO = 'hello';
const PUBLIC_URL = 'https://previews.example.com';
const BASE_DOMAIN = 'preview.test';
const sha = (char: string) => char.repeat(40);
/** Octokit logs every 4xx; the tests provoke some. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
/** Octokit may send the config's path with its `/` escaped. */

/** The real reconciler on the test host cluster, talking to the GitHub double. */
const reconcilerFor = (
  provider: VirtualClusterProvider,
  github: GitHubDouble,
  timeouts: Pick<ReconcilerDeps, 'readyTimeoutMs' | 'rolloutTimeoutMs'> = {},
): Reconciler =>
  createReconciler({
    provider,
    hostKubeconfig: inject('hostKubeconfig'),
    githubFor: async () => new Octokit({ baseUrl: github.url, auth: 'x', log: quiet }),
    baseDomain: BASE_DOMAIN,
    publicUrl: PUBLIC_URL,
    ...timeouts,
  });

async function exampleFiles(dir = EXAMPLE): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.md'))
    .map((entry) => relative(EXAMPLE, join(entry.parentPath, entry.name)));
}

describe('reconciling a pull request preview (local provider, host cluster, GitHub double)', () => {
  let github: GitHubDouble;
  let stateRoot: string;
  let provider: VirtualClusterProvider;
  let reconcile: Reconciler;
  const host = () => kubeClients(inject('hostKubeconfig'));
  const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const progress: unknown[] = [];
  const ctx = () => ({
    log: log.child({}),
    progress: async (value: unknown) => {
      progress.push(value);
    },
    signal: new AbortController().signal,
    attempt: 1,
  });
  const job = (pr: number, desired: PreviewJob['desired']): PreviewJob => ({
    repo: `${OWNER}/${REPO}`,
    pr,
    desired,
    installationId: 1,
  });

  /** The example's files at `ref`, with `change` applied to the config. */
  const seed = async (ref: string, change?: (config: string) => string) => {
    for (const path of await exampleFiles()) {
      let content = await readFile(join(EXAMPLE, path), 'utf8');
      if (change && path === '.github/vcluster-preview.yml') content = change(content);
      github.setFile(OWNER, REPO, ref, path, content);
    }
  };
  const namespaceExists = async (name: string) => {
    try {
      await host().core.readNamespace({ name });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  };
  const sticky = (pr: number) =>
    github.comments(OWNER, REPO, pr).filter((c) => c.body.startsWith(STICKY_MARKER));

  beforeAll(async () => {
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO);
    stateRoot = await mkdtemp(join(tmpdir(), 'vcp-reconcile-'));
    provider = localProvider({ hostKubeconfig: inject('hostKubeconfig'), stateRoot });
    reconcile = reconcilerFor(provider, github, { readyTimeoutMs: 60_000, rolloutTimeoutMs: 90_000 });
  });
  afterAll(async () => {
    for (const pr of [1, 2]) await provider?.delete(previewName(`${OWNER}/${REPO}`, pr)).catch(() => {});
    await github?.stop();
    if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  });

  // One pull request's whole life, in order: each part builds on the preview the one before left.
  it('up → up again at a new commit → a push while paused wakes it → a rollout the host refuses → down', async () => {
    // up: creates the virtual cluster, deploys hello, exposes it and reports the URL.
    {
      await seed(sha('a'));
      github.addPullRequest({ owner: OWNER, repo: REPO, number: 1, headSha: sha('a') });
      const outcome = await reconcile(job(1, { kind: 'up', sha: sha('a') }), ctx());
      const url = `https://pr-1-hello-octo.${BASE_DOMAIN}`;
      expect(outcome).toEqual({ state: 'ready', url });

      const ref = previewName(`${OWNER}/${REPO}`, 1);
      const info = await provider.get(ref);
      expect(info).toMatchObject({ state: 'running', namespace: ref.namespace });
      expect(info?.labels[labels.repo]).toBe('octo.hello');
      expect(info?.labels[labels.pullRequest]).toBe('1');
      expect(info?.annotations[annotations.commit]).toBe(sha('a'));

      const virtual = kubeClients(await provider.kubeconfig(ref));
      const deployment = await virtual.apps.readNamespacedDeployment({ name: 'hello', namespace: 'default' });
      expect(deployment.status?.availableReplicas).toBe(2);
      const ingress = await host().networking.readNamespacedIngress({
        name: 'preview',
        namespace: ref.namespace,
      });
      expect(ingress.spec?.rules?.[0]?.host).toBe(`pr-1-hello-octo.${BASE_DOMAIN}`);

      const [comment, ...more] = sticky(1);
      expect(more).toEqual([]);
      expect(comment?.body).toContain('🚀 Preview ready');
      expect(comment?.body).toContain(url);
      for (const step of ['Read config', 'Virtual cluster', 'Deploy', 'Expose'])
        expect(comment?.body).toMatch(new RegExp(`✅ \\| ${step} \\| \\d`));
      // Each step was shown running before it was done.
      const edits = github
        .callsTo('PATCH', /\/issues\/comments\/\d+$/)
        .map((call) => (call.body as { body: string }).body);
      expect(edits.some((body) => body.includes('⏳ | Deploy'))).toBe(true);

      const [deployed] = github.deployments(OWNER, REPO);
      expect(deployed).toMatchObject({
        environment: 'preview/pr-1',
        sha: sha('a'),
        transient_environment: true,
      });
      expect(deployed?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
      expect(deployed?.statuses.at(-1)?.environment_url).toBe(url);
      expect(progress.length).toBeGreaterThan(4);
    }
    // up again at a new commit: the same virtual cluster, redeployed, one comment edited.
    {
      const ref = previewName(`${OWNER}/${REPO}`, 1);
      const before = await provider.get(ref);
      await seed(sha('b'));
      github.updatePullRequest(OWNER, REPO, 1, { headSha: sha('b') });
      const outcome = await reconcile(job(1, { kind: 'up', sha: sha('b') }), ctx());
      expect(outcome.state).toBe('ready');

      const after = await provider.get(ref);
      expect(after?.createdAt).toBe(before?.createdAt);
      expect(after?.annotations[annotations.commit]).toBe(sha('b'));
      const virtual = kubeClients(await provider.kubeconfig(ref));
      const content = await virtual.core.readNamespacedConfigMap({
        name: 'hello-content',
        namespace: 'default',
      });
      expect(content.data?.sha).toBe(sha('b'));

      const comments = sticky(1);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body).toContain(sha('b').slice(0, 7));
      expect(github.callsTo('POST', `/repos/${OWNER}/${REPO}/issues/1/comments`)).toHaveLength(1);
      const deployments = github.deployments(OWNER, REPO);
      expect(deployments.map((d) => d.sha)).toEqual([sha('a'), sha('b')]);
      expect(deployments[1]?.statuses.at(-1)?.state).toBe('success');

      // The same job again converges without changes.
      expect((await reconcile(job(1, { kind: 'up', sha: sha('b') }), ctx())).state).toBe('ready');
      expect(github.deployments(OWNER, REPO)).toHaveLength(2);
      expect(sticky(1)).toHaveLength(1);
    }
    // a push to a preview that fell asleep (the sweeper paused it) wakes it and deploys the push.
    {
      const ref = previewName(`${OWNER}/${REPO}`, 1);
      await provider.pause(ref);
      expect((await provider.get(ref))?.state).toBe('paused');
      await seed(sha('d'));
      github.updatePullRequest(OWNER, REPO, 1, { headSha: sha('d') });
      const outcome = await reconcile(job(1, { kind: 'up', sha: sha('d') }), ctx());
      expect(outcome.state).toBe('ready');
      expect((await provider.get(ref))?.state).toBe('running');
      const virtual = kubeClients(await provider.kubeconfig(ref));
      const content = await virtual.core.readNamespacedConfigMap({
        name: 'hello-content',
        namespace: 'default',
      });
      expect(content.data?.sha).toBe(sha('d'));
      expect(sticky(1)[0]?.body).toContain('🚀 Preview ready');
    }
    // a rollout the host's quota refuses: the failure says which limit is full and what the syncer
    // saw, and is the author's to fix (no retry can help).
    {
      // Each pod asks for more CPU than the preview namespace's ResourceQuota allows in all.
      await seed(sha('9'));
      const deployment = await readFile(join(EXAMPLE, 'deploy', 'deployment.yaml'), 'utf8');
      github.setFile(
        OWNER,
        REPO,
        sha('9'),
        'deploy/deployment.yaml',
        deployment.replace('cpu: 20m', 'cpu: "50"').replace('cpu: 200m', 'cpu: "50"'),
      );
      github.updatePullRequest(OWNER, REPO, 1, { headSha: sha('9') });
      const impatient = reconcilerFor(provider, github, { rolloutTimeoutMs: 10_000 });
      const error = await impatient(job(1, { kind: 'up', sha: sha('9') }), ctx()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadConfigError);
      const [comment] = sticky(1);
      expect(comment?.body).toMatch(/❌ \| Deploy/);
      expect(comment?.body).toMatch(/the preview's host quota is used up \((limits|requests)\.cpu/);
      expect(comment?.body).toContain('What the syncer saw last:');
      expect(comment?.body).toMatch(
        /INFO sync failed \(kind Pod, key default\/hello-[a-z0-9-]+\): .*exceeded quota/,
      );
    }
    // down: deletes the virtual cluster, deactivates deployments, says destroyed.
    {
      const ref = previewName(`${OWNER}/${REPO}`, 1);
      const outcome = await reconcile(job(1, { kind: 'down' }), ctx());
      expect(outcome.state).toBe('destroyed');
      expect(await namespaceExists(ref.namespace)).toBe(false);
      expect(await provider.get(ref)).toBeUndefined();
      const deploymentsOfPr1 = github
        .deployments(OWNER, REPO)
        .filter((d) => d.environment === 'preview/pr-1');
      expect(deploymentsOfPr1.length).toBeGreaterThan(0);
      for (const deployment of deploymentsOfPr1) expect(deployment.statuses.at(-1)?.state).toBe('inactive');
      const comments = sticky(1);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body).toContain('🗑️ Preview destroyed');
      // Down twice is fine.
      expect((await reconcile(job(1, { kind: 'down' }), ctx())).state).toBe('destroyed');
    }
  }, 600_000);

  it('bad config: BadConfigError, the line in the comment, nothing left in the host cluster', async () => {
    await seed(sha('c'), (config) => config.replace('manifests: deploy/', 'manifest: deploy/'));
    github.addPullRequest({ owner: OWNER, repo: REPO, number: 2, headSha: sha('c') });
    const error = await reconcile(job(2, { kind: 'up', sha: sha('c') }), ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadConfigError);

    const [comment, ...more] = sticky(2);
    expect(more).toEqual([]);
    expect(comment?.body).toContain('❌ Preview failed');
    expect(comment?.body).toContain('.github/vcluster-preview.yml:2:');
    expect(comment?.body).toMatch(/❌ \| Read config/);
    // The full log is the preview's entry on the service's status page.
    expect(comment?.body).toContain(`Full log: ${PUBLIC_URL}/previews/pr-octo--hello-2`);
    expect(await namespaceExists(previewName(`${OWNER}/${REPO}`, 2).namespace)).toBe(false);
    const deployment = github.deployments(OWNER, REPO).find((d) => d.environment === 'preview/pr-2');
    expect(deployment?.statuses.at(-1)?.state).toBe('failure');
    expect(deployment?.statuses.at(-1)?.log_url).toContain('/octo/hello/pull/2#issuecomment-');
  }, 60_000);
});

describe('reconcile failures that need no virtual cluster', () => {
  let github: GitHubDouble;
  let stateRoot: string;
  let provider: VirtualClusterProvider;
  let reconcile: Reconciler;
  const log = pino({ level: 'silent' });
  const ctx = () => ({
    log,
    progress: async () => {},
    signal: new AbortController().signal,
    attempt: 1,
  });
  const sticky = (pr: number) =>
    github.comments(OWNER, REPO, pr).filter((c) => c.body.startsWith(STICKY_MARKER));

  beforeAll(async () => {
    github = await startGitHubDouble();
    github.addRepo(OWNER, REPO);
    stateRoot = await mkdtemp(join(tmpdir(), 'vcp-reconcile-'));
    provider = localProvider({ hostKubeconfig: inject('hostKubeconfig'), stateRoot });
    reconcile = reconcilerFor(provider, github);
  });
  afterAll(async () => {
    for (const pr of [3, 4]) await provider?.delete(previewName(`${OWNER}/${REPO}`, pr)).catch(() => {});
    await github?.stop();
    if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  });

  it.each([
    { what: 'a fork', number: 3, forkDeleted: false },
    { what: 'a deleted fork (GitHub shows no head repository)', number: 5, forkDeleted: true },
  ])(
    '$what: the config is read from the base branch, never from the fork',
    async ({ number, forkDeleted }) => {
      const head = sha(forkDeleted ? 'f' : 'd');
      for (const path of await exampleFiles())
        github.setFile(OWNER, REPO, head, path, await readFile(join(EXAMPLE, path), 'utf8'));
      github.addPullRequest({
        owner: OWNER,
        repo: REPO,
        number,
        headSha: head,
        forkOwner: 'stranger',
        forkDeleted,
        baseRef: 'main',
      });
      github.setFile(OWNER, REPO, 'main', 'README.md', 'no config on the base branch');
      const before = github.callsTo('GET', REPO_CONFIG_ROUTE).length;
      const error = await reconcile(
        { repo: `${OWNER}/${REPO}`, pr: number, desired: { kind: 'up', sha: head } },
        ctx(),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadConfigError);
      expect((error as Error).message).toContain('the base branch main');
      const configReads = github
        .callsTo('GET', REPO_CONFIG_ROUTE)
        .slice(before)
        .map((call) => call.query.ref);
      expect(configReads).toEqual(['main']);
      expect(await provider.get(previewName(`${OWNER}/${REPO}`, number))).toBeUndefined();
    },
  );

  it('a pull request that renders more objects than a preview may deploy is refused before any cluster is made', async () => {
    const head = sha('7');
    for (const path of await exampleFiles())
      github.setFile(OWNER, REPO, head, path, await readFile(join(EXAMPLE, path), 'utf8'));
    const many = Array.from(
      { length: 501 },
      (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flood-${i}\ndata:\n  n: "${i}"\n`,
    ).join('---\n');
    github.setFile(OWNER, REPO, head, 'deploy/flood.yaml', many);
    github.addPullRequest({ owner: OWNER, repo: REPO, number: 6, headSha: head });
    const error = await reconcile(
      { repo: `${OWNER}/${REPO}`, pr: 6, desired: { kind: 'up', sha: head } },
      ctx(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadConfigError);
    const [comment] = sticky(6);
    expect(comment?.body).toContain('more than the 500 one preview may deploy');
    expect(comment?.body).toMatch(/❌ \| Read config/);
    expect(await provider.get(previewName(`${OWNER}/${REPO}`, 6))).toBeUndefined();
  });

  it('a transient error is rethrown for a retry, and the comment says which step and that it retries', async () => {
    for (const path of await exampleFiles())
      github.setFile(OWNER, REPO, sha('e'), path, await readFile(join(EXAMPLE, path), 'utf8'));
    github.addPullRequest({ owner: OWNER, repo: REPO, number: 4, headSha: sha('e') });
    github.failNext({ method: 'GET', path: REPO_CONFIG_ROUTE, status: 502 });
    const error = await reconcile(
      { repo: `${OWNER}/${REPO}`, pr: 4, desired: { kind: 'up', sha: sha('e') } },
      ctx(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BadConfigError);
    const [comment] = sticky(4);
    expect(comment?.body).toContain('Read config failed (retrying)');
    expect(comment?.body).toContain('retries this automatically');
    expect(comment?.body).toMatch(/❌ \| Read config/);
  });
});
