import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { kubeClients } from '../../kube/client.ts';
import { labels } from '../../preview/provider.ts';

const CLI = join(import.meta.dirname, '..', '..', 'cli', 'vcluster-preview.js');
const NAME = 'kc-dialect';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The host cluster a command talks to, chosen as kubectl chooses: --kubeconfig, $KUBECONFIG,
 * ~/.kube/config (no embedded host runs here), and --context of that kubeconfig; `list` prints what
 * is on that cluster, as json or yaml, and builds no binaries to do it.
 */
describe('--kubeconfig, $KUBECONFIG, ~/.kube/config and --context, through the CLI', () => {
  const host = kubeClients(inject('hostKubeconfig'));
  let dir: string;
  /** The test host's kubeconfig, its current context a cluster that does not answer. */
  let twoContexts: string;
  let hostOnly: string;
  const env = (extra: Record<string, string> = {}) => {
    const clean: Record<string, string | undefined> = {
      ...process.env,
      HOME: join(dir, 'home'),
      VCLUSTER_PREVIEW_HOME: join(dir, 'state'),
      VCLUSTER_PREVIEW_CACHE: join(dir, 'cache'),
      ...extra,
    };
    for (const name of [
      'VCLUSTER_PREVIEW_BINARIES',
      'XDG_CACHE_HOME',
      ...('KUBECONFIG' in extra ? [] : ['KUBECONFIG']),
    ])
      delete clean[name];
    return clean;
  };
  const cli = (args: string[], extra?: Record<string, string>): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env: env(extra) }, (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      });
    });
  const listed = (result: CliResult) => {
    if (result.code !== 0) throw new Error(`list failed (${result.code}): ${result.stderr}`);
    return (JSON.parse(result.stdout) as { name: string }[]).map((cluster) => cluster.name);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vcp-kubeconfig-order-'));
    await mkdir(join(dir, 'cache'));
    const config = parse(inject('hostKubeconfig'));
    const [cluster, user, context] = [config.clusters[0], config.users[0], config.contexts[0]];
    hostOnly = join(dir, 'host.yaml');
    await writeFile(hostOnly, inject('hostKubeconfig'), { mode: 0o600 });
    twoContexts = join(dir, 'two-contexts.yaml');
    await writeFile(
      twoContexts,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [cluster, { name: 'gone', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [user],
        contexts: [{ name: 'gone', context: { cluster: 'gone', user: user.name } }, context],
        'current-context': 'gone',
      }),
      { mode: 0o600 },
    );
    // A namespace the local provider lists: what `list` shows when it reached this host.
    await host.core.createNamespace({
      body: {
        metadata: {
          name: `vcluster-${NAME}`,
          labels: { [labels.vcluster]: NAME, [labels.provider]: 'local' },
        },
      },
    });
  });
  afterAll(async () => {
    await host.core.deleteNamespace({ name: `vcluster-${NAME}` }).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('--kubeconfig, or else $KUBECONFIG, reach the host', async () => {
    expect(listed(await cli(['list', '--kubeconfig', hostOnly, '-o', 'json']))).toContain(NAME);
    expect(listed(await cli(['list', '-o', 'json'], { KUBECONFIG: hostOnly }))).toContain(NAME);
    // --kubeconfig comes first: a $KUBECONFIG that names nothing usable is not read.
    expect(
      listed(await cli(['list', '--kubeconfig', hostOnly, '-o', 'json'], { KUBECONFIG: '/nonexistent' })),
    ).toContain(NAME);
  });

  it('~/.kube/config when nothing else names one', async () => {
    const none = await cli(['list']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      'no host cluster reachable: start the embedded one with `vcluster-preview host up`',
    );
    await mkdir(join(dir, 'home', '.kube'), { recursive: true });
    await writeFile(join(dir, 'home', '.kube', 'config'), inject('hostKubeconfig'), { mode: 0o600 });
    try {
      expect(listed(await cli(['list', '-o', 'json']))).toContain(NAME);
    } finally {
      await rm(join(dir, 'home', '.kube'), { recursive: true, force: true });
    }
  });

  it('--context selects a context of the kubeconfig instead of its current one; an unknown one is named', async () => {
    const current = await cli(['list', '--kubeconfig', twoContexts]);
    expect(current.code).toBe(1);
    expect(current.stderr).toContain('127.0.0.1:1');
    const context = parse(inject('hostKubeconfig')).contexts[0].name as string;
    expect(
      listed(await cli(['list', '--kubeconfig', twoContexts, '--context', context, '-o', 'json'])),
    ).toContain(NAME);
    expect(
      listed(await cli(['list', '--context', context, '-o', 'json'], { KUBECONFIG: twoContexts })),
    ).toContain(NAME);
    const unknown = await cli(['list', '--kubeconfig', twoContexts, '--context', 'staging']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      `--context staging: no such context in ${twoContexts} (one of gone, ${context})`,
    );
  });

  it('-o yaml prints the same list as -o json, and list built no binaries for it', async () => {
    const json = JSON.parse((await cli(['list', '--kubeconfig', hostOnly, '-o', 'json'])).stdout);
    const yaml = await cli(['list', '--kubeconfig', hostOnly, '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    // The host is shared with other test files, whose previews come and go between the two calls:
    // the two outputs are compared on this test's own cluster.
    const own = (list: { name: string }[]) => list.filter((cluster) => cluster.name === NAME);
    expect(own(parse(yaml.stdout))).toEqual(own(json));
    expect(own(json)).toHaveLength(1);
    expect(json.find((cluster: { name: string }) => cluster.name === NAME)).toMatchObject({
      namespace: `vcluster-${NAME}`,
      provider: 'local',
    });
    // The cache every command here was pointed at is as empty as it started.
    expect(await readdir(join(dir, 'cache'))).toEqual([]);
  });
});
