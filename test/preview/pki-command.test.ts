import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { type PkiData, pkiFiles } from '../../cli/pki.ts';
import { runPki } from '../../cli/pki-command.ts';
import { type KubeClients, kubeClients, kubeConfigFromString } from '../../kube/client.ts';
import { kubeconfigFile } from '../support/kubectl.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const suffix = Date.now().toString(36).slice(-6);
const namespace = `pki-${suffix}`;
const release = 'demo';
const secret = `vc-${release}-pki`;
const hosts = [
  release,
  `${release}.${namespace}`,
  `${release}.${namespace}.svc`,
  'localhost',
  '127.0.0.1',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
].join(',');

/** Runs `vcluster-preview pki ...` as its own process (the command as the init container runs it). */
function pki(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = [
    "import { Command } from 'commander';",
    "import { registerPkiCommand } from './cli/pki-command.ts';",
    "const program = new Command('vcluster-preview');",
    'registerPkiCommand(program);',
    "await program.parseAsync(process.argv.slice(1), { from: 'user' });",
  ].join('\n');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, '--', 'pki', ...args],
      { cwd: repo, env: { ...process.env, KUBECONFIG: '/nonexistent' } },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

async function readDir(dir: string): Promise<PkiData> {
  const files = {} as PkiData;
  for (const file of pkiFiles) files[file] = await readFile(join(dir, file), 'utf8');
  return files;
}

function sans(pem: string): string[] {
  return (new X509Certificate(pem).subjectAltName ?? '').split(', ').sort();
}

describe('vcluster-preview pki against the host cluster', () => {
  let host: KubeClients;
  let kubeconfig: string;
  let serviceIP: string;

  beforeAll(async () => {
    host = kubeClients(inject('hostKubeconfig'));
    kubeconfig = await kubeconfigFile(inject('hostKubeconfig'));
    await host.core.createNamespace({ body: { metadata: { name: namespace } } });
    const service = await host.core.createNamespacedService({
      namespace,
      body: { metadata: { name: release }, spec: { ports: [{ port: 443, targetPort: 8443 }] } },
    });
    serviceIP = service.spec?.clusterIP ?? '';
    expect(serviceIP).toMatch(/^10\.96\./);
  });

  afterAll(async () => {
    await host.core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  const base = (dir: string, extraHosts = '') => [
    '--dir',
    dir,
    '--secret',
    secret,
    '--namespace',
    namespace,
    '--hosts',
    hosts + extraHosts,
    '--service',
    release,
    '--kubeconfig',
    kubeconfig,
  ];

  it('makes the certificates once, stores them in the Secret and writes them with mode 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vcp-pki-'));
    const result = await pki(base(dir));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`created Secret ${secret}`);

    const stored = await host.core.readNamespacedSecret({ name: secret, namespace });
    expect(stored.type).toBe('Opaque');
    expect(stored.metadata?.labels).toEqual({ app: 'vcluster', release });
    expect(Object.keys(stored.data ?? {}).sort()).toEqual([...pkiFiles].sort());

    const files = await readDir(dir);
    for (const file of pkiFiles) {
      expect((await stat(join(dir, file))).mode & 0o777, file).toBe(0o600);
      expect(Buffer.from(stored.data?.[file] ?? '', 'base64').toString(), file).toBe(files[file]);
    }
    const ca = new X509Certificate(files['ca.crt']);
    const serving = new X509Certificate(files['apiserver.crt']);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(sans(files['apiserver.crt'])).toEqual(
      expect.arrayContaining([
        `DNS:${release}.${namespace}.svc`,
        'DNS:kubernetes.default.svc',
        'IP Address:127.0.0.1',
        `IP Address:${serviceIP}`,
      ]),
    );
    const admin = parse(files['admin.kubeconfig']);
    expect(admin.clusters[0].cluster.server).toBe('https://127.0.0.1:8443');
    expect(admin['current-context']).toBe(release);
  });

  it('reuses what the Secret holds on the next run', async () => {
    const first = (await host.core.readNamespacedSecret({ name: secret, namespace })).data;
    const dir = await mkdtemp(join(tmpdir(), 'vcp-pki-'));
    const result = await pki(base(dir));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('reusing');
    const files = await readDir(dir);
    for (const file of pkiFiles)
      expect(files[file]).toBe(Buffer.from(first?.[file] ?? '', 'base64').toString());
  });

  it('reissues the serving and admin certificates with the same CA when the names change', async () => {
    const before = await host.core.readNamespacedSecret({ name: secret, namespace });
    const dir = await mkdtemp(join(tmpdir(), 'vcp-pki-'));
    const result = await pki(base(dir, ',api.pr-1.example.com,10.1.2.3'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('reissue');
    const after = await host.core.readNamespacedSecret({ name: secret, namespace });
    for (const key of ['ca.crt', 'ca.key', 'sa.key', 'sa.pub'])
      expect(after.data?.[key], key).toBe(before.data?.[key]);
    expect(after.data?.['apiserver.crt']).not.toBe(before.data?.['apiserver.crt']);
    expect(after.data?.['admin.crt']).not.toBe(before.data?.['admin.crt']);
    const files = await readDir(dir);
    expect(sans(files['apiserver.crt'])).toEqual(
      expect.arrayContaining(['DNS:api.pr-1.example.com', 'IP Address:10.1.2.3']),
    );
    expect(
      new X509Certificate(files['apiserver.crt']).verify(new X509Certificate(files['ca.crt']).publicKey),
    ).toBe(true);
  });

  it('agrees on one CA when several run at once (409 on create: the winner is used)', async () => {
    const raced = 'vc-race-pki';
    const config = kubeConfigFromString(inject('hostKubeconfig'));
    const runs = await Promise.all(
      Array.from({ length: 4 }, async () =>
        runPki({
          dir: await mkdtemp(join(tmpdir(), 'vcp-pki-')),
          secret: raced,
          namespace,
          hosts: hosts.split(','),
          kubeconfig: config,
        }),
      ),
    );
    const stored = await host.core.readNamespacedSecret({ name: raced, namespace });
    const ca = Buffer.from(stored.data?.['ca.crt'] ?? '', 'base64').toString();
    for (const run of runs) {
      expect(run.data['ca.crt']).toBe(ca);
      expect(await readFile(join(run.files[0]!, '..', 'ca.crt'), 'utf8')).toBe(ca);
    }
    expect(runs.filter((run) => run.plan.action === 'create').length).toBeGreaterThanOrEqual(1);
    expect(stored.metadata?.labels).toEqual({ app: 'vcluster', release: 'race' });
  });

  it('fails with a message on stderr and a non-zero exit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vcp-pki-'));
    const missingService = await pki([
      ...base(dir).slice(0, 8),
      '--service',
      'nope',
      '--kubeconfig',
      kubeconfig,
    ]);
    expect(missingService.code).not.toBe(0);
    expect(missingService.stderr).toContain(`Service nope not found in namespace ${namespace}`);

    const noAccess = await pki([
      '--dir',
      dir,
      '--secret',
      secret,
      '--namespace',
      namespace,
      '--kubeconfig',
      '/nonexistent/kubeconfig',
    ]);
    expect(noAccess.code).not.toBe(0);
    expect(noAccess.stderr).toMatch(/error: .*nonexistent/);

    const usage = await pki(['--dir', dir]);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toContain('--secret');
  });
});
