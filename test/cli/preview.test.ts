import { type ChildProcess, execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pidsMentioning } from '../../controlplane/index.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { annotations, labels } from '../../preview/provider.ts';
import { CLI, spawnCli } from '../support/cli-process.ts';
import { openThroughIngress } from '../support/ingress.ts';

const run = promisify(execFile);
const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'hello');

/**
 * `vcluster-preview preview DIR`: a working tree previewed on the real node the way a pull request
 * is, as its author checks a config before pushing: the URL answers with the tree's commit, an
 * edit under --watch changes what it serves, a broken config is refused with its line and leaves
 * nothing behind, and --down deletes it all.
 */
describe('vcluster-preview preview (a working tree)', () => {
  const hostKubeconfig = inject('realHostKubeconfig');
  const ingressUrl = inject('ingressUrl');
  const host = kubeClients(hostKubeconfig);
  let home: string;
  let work: string;
  let kubeconfigFile: string;
  const children: ChildProcess[] = [];

  const env = () => ({
    ...process.env,
    VCLUSTER_PREVIEW_HOME: home,
    PREVIEW_URL_SCHEME: 'http',
    PREVIEW_URL_PORT: new URL(ingressUrl).port,
  });
  const cli = (args: string[]) =>
    run(process.execPath, [CLI, ...args, '--kubeconfig', kubeconfigFile], { env: env() });
  const git = (dir: string, ...args: string[]) =>
    run('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);

  /** A copy of examples/hello as a git repository of its own, committed: its HEAD commit. */
  async function checkout(name: string): Promise<{ dir: string; commit: string }> {
    const dir = join(work, name);
    await cp(EXAMPLE, dir, { recursive: true });
    await git(dir, 'init', '-q');
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-qm', 'the example');
    return { dir, commit: (await git(dir, 'rev-parse', 'HEAD')).stdout.trim() };
  }

  const pageShowing = (url: string, text: string) =>
    waitUntil(
      async () => {
        const page = await openThroughIngress(url, ingressUrl).catch(() => undefined);
        return page?.status === 200 && page.body.includes(text) ? page.body : undefined;
      },
      { what: `${url} to show ${text}`, timeoutMs: 90_000, intervalMs: 500 },
    );

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'vcp-preview-home-'));
    work = await mkdtemp(join(tmpdir(), 'vcp-preview-trees-'));
    kubeconfigFile = join(work, 'host.kubeconfig');
    await writeFile(kubeconfigFile, hostKubeconfig, { mode: 0o600 });
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const name of ['hello-watch', 'broken']) {
      await cli(['preview', join(work, name), '--down']).catch(() => {});
    }
    for (const pid of pidsMentioning(home)) process.kill(pid, 'SIGKILL');
    await rm(home, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('--watch: the URL answers with the tree’s commit; an edit is served as <commit>-dirty; Ctrl-C stops; --down deletes it', async () => {
    const { dir, commit } = await checkout('hello-watch');
    const {
      child,
      output: printed,
      exited,
    } = spawnCli(['preview', dir, '--watch', '--kubeconfig', kubeconfigFile], { env: env() });
    children.push(child);
    const url = await waitUntil(
      async () =>
        printed().match(/is ready at (http:\/\/\S+)/)?.[1] ?? (child.exitCode !== null ? null : undefined),
      { what: `the preview to be ready (output so far: ${printed()})`, timeoutMs: 240_000, intervalMs: 250 },
    );
    expect(url, printed()).not.toBeNull();
    expect(url).toBe(`http://pr-0-hello-watch-local.preview.localhost:${new URL(ingressUrl).port}`);
    // The steps a pull request's preview goes through, each timed.
    for (const step of ['Read config', 'Virtual cluster', 'Deploy', 'Expose'])
      expect(printed()).toMatch(new RegExp(`✔ ${step} \\(\\d+\\.\\ds\\)`));
    expect(await pageShowing(url!, commit)).toContain(`Commit <code>${commit}</code>`);

    // The host namespace says what it is: the tree, its folder, its commit and its last run.
    const namespace = await host.core.readNamespace({ name: 'preview-tree-hello-watch' });
    expect(namespace.metadata?.labels?.[labels.tree]).toBe('hello-watch');
    expect(namespace.metadata?.annotations?.[annotations.treeDir]).toBe(dir);
    expect(namespace.metadata?.annotations?.[annotations.commit]).toBe(commit);
    const lastRun = JSON.parse(namespace.metadata?.annotations?.[annotations.lastRun] ?? '{}');
    expect(lastRun).toMatchObject({ state: 'ready', sha: commit, url });

    // Editing the page: the watcher deploys again, and the URL serves the edit from the dirty tree.
    const page = join(dir, 'deploy', 'configmap.yaml');
    await writeFile(page, (await readFile(page, 'utf8')).replace('<h1>Hello from', '<h1>Edited: hello from'));
    const edited = await pageShowing(url!, 'Edited: hello from');
    expect(edited).toContain(`Commit <code>${commit}-dirty</code>`);

    child.kill('SIGINT');
    expect(await exited).toBe(0);

    await cli(['preview', dir, '--down']);
    await waitUntil(
      async () =>
        (await isGone(() => host.core.readNamespace({ name: 'preview-tree-hello-watch' }))) || undefined,
      {
        what: 'the preview namespace to be deleted',
        timeoutMs: 60_000,
      },
    );
    expect((await openThroughIngress(url!, ingressUrl)).status).toBe(404);
  });

  it('a broken config is refused with its line and what to do, and leaves no virtual cluster', async () => {
    const { dir } = await checkout('broken');
    const config = join(dir, '.github', 'vcluster-preview.yml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('port: 80', 'port: eighty'));
    const failed = await cli(['preview', dir]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(
      'error: Read config failed: .github/vcluster-preview.yml:5: expose.port: expected a number, got "eighty"',
    );
    expect(failed?.stderr).toContain(
      'fix .github/vcluster-preview.yml, then run `vcluster-preview preview` again',
    );
    expect(await isGone(() => host.core.readNamespace({ name: 'preview-tree-broken' }))).toBe(true);
  });
});
