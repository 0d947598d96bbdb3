import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pidsMentioning } from '../../controlplane/index.ts';
import { isNotFound, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { resetVirtualCluster } from '../../preview/lifecycle.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { kubeconfigFile } from '../support/kubectl.ts';

const entry = join(import.meta.dirname, '..', '..', 'cli', 'vcluster-preview.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('virtual cluster lifecycle with the local provider, through the CLI', () => {
  let home: string;
  let work: string;
  let hostKubeconfigPath: string;
  const host = () => kubeClients(inject('hostKubeconfig'));
  // The CLI's own temporary folder, to see what it leaves there.
  let cliTmp: string;
  const env = () => ({
    ...process.env,
    VCLUSTER_PREVIEW_HOME: home,
    TMPDIR: cliTmp,
    LOG_LEVEL: 'warn' as const,
  });

  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [entry, ...args],
        { env: env(), cwd: work, maxBuffer: 16 << 20 },
        (error, stdout, stderr) => {
          const code = error ? ((error as { code?: number }).code ?? 1) : 0;
          resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
        },
      );
    });
  const ok = async (...args: string[]) => {
    const result = await cli(...args);
    if (result.code !== 0)
      throw new Error(`vcluster-preview ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  const kubectl = (name: string, ...args: string[]) =>
    ok('connect', name, '--kubeconfig', hostKubeconfigPath, '--', 'kubectl', ...args);
  const availableReplicas = () =>
    kubectl(
      'demo',
      'get',
      'deployment',
      'nginx-deploy',
      '-n',
      'ns1',
      '-o',
      'jsonpath={.status.availableReplicas}',
    );
  /*
   * What a Deployment that does not become available looked like, so a failure can be understood
   * from the CI log alone: both sides' pods and their readiness, the host's nodes (a NotReady node
   * marks its pods not Ready), the ReplicaSet's and Deployment's status, and the control plane's log.
   */
  const describeStall = async (): Promise<string> => {
    const show = (...args: string[]) => kubectl('demo', ...args).catch((error: Error) => error.message);
    const log = join(home, 'vclusters', 'vcluster-demo--demo', 'cluster', 'logs', 'vcontrolplane.log');
    const logTail = (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-40).join('\n');
    const hostPods = (await host().core.listNamespacedPod({ namespace: 'vcluster-demo' })).items;
    const hostNodes = (await host().core.listNode()).items;
    const ready = (conditions?: { type: string; status: string }[]) =>
      conditions?.find((c) => c.type === 'Ready')?.status ?? '-';
    const events = (await host().core.listNamespacedEvent({ namespace: 'vcluster-demo' })).items.slice(-10);
    return [
      `virtual pods:\n${await show('get', 'pods', '-A', '-o', 'wide')}`,
      `virtual ReplicaSets and Deployments:\n${await show('get', 'rs,deploy', '-n', 'ns1', '-o', 'jsonpath={range .items[*]}{.kind} {.metadata.name} gen={.metadata.generation} status={.status}{"\\n"}{end}')}`,
      `virtual pod conditions:\n${await show('get', 'pods', '-n', 'ns1', '-o', 'jsonpath={range .items[*]}{.metadata.name} rv={.metadata.resourceVersion} {.status.conditions}{"\\n"}{end}')}`,
      `host pods:\n${hostPods.map((p) => `${p.metadata?.name} ${p.status?.phase} node=${p.spec?.nodeName ?? '-'} ready=${ready(p.status?.conditions)}`).join('\n')}`,
      `host nodes:\n${hostNodes.map((n) => `${n.metadata?.name} ready=${ready(n.status?.conditions)}`).join('\n')}`,
      `host events:\n${events.map((e) => `${e.type} ${e.reason} ${e.involvedObject.name}: ${e.message}`).join('\n')}`,
      `vcontrolplane.log (tail):\n${logTail}`,
    ].join('\n');
  };
  const namespaceGone = async (name: string) => {
    try {
      await host().core.readNamespace({ name });
      return false;
    } catch (error) {
      return isNotFound(error);
    }
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'vcp-home-'));
    work = await mkdtemp(join(tmpdir(), 'vcp-work-'));
    cliTmp = await mkdtemp(join(tmpdir(), 'vcp-cli-tmp-'));
    hostKubeconfigPath = await kubeconfigFile(inject('hostKubeconfig'));
  });

  afterAll(async () => {
    for (const name of ['demo', 'half', 'iso-a', 'iso-b'])
      await cli('delete', name, '--kubeconfig', hostKubeconfigPath);
  });

  it('creates, runs the classic kubectl demo through connect, pauses, resumes, resets and deletes', async () => {
    await ok('create', 'demo', '--kubeconfig', hostKubeconfigPath, '--connect=false');
    const list = JSON.parse(await ok('list', '--kubeconfig', hostKubeconfigPath, '-o', 'json'));
    expect(list.find((c: { name: string }) => c.name === 'demo')).toMatchObject({
      namespace: 'vcluster-demo',
      provider: 'local',
      state: 'running',
    });
    // Creating again is a no-op that returns the same cluster.
    await ok('create', 'demo', '--kubeconfig', hostKubeconfigPath, '--connect=false');

    await kubectl('demo', 'create', 'namespace', 'ns1');
    await kubectl(
      'demo',
      'create',
      'deployment',
      'nginx-deploy',
      '-n',
      'ns1',
      '--image=nginx',
      '--replicas=2',
    );
    await kubectl('demo', 'create', 'configmap', 'keep-me', '-n', 'ns1', '--from-literal=a=b');
    await waitUntil(async () => (await availableReplicas()) === '2', {
      what: 'nginx-deploy available in the virtual cluster',
      timeoutMs: 120_000,
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await describeStall()}`);
    });
    const hostPods = (await host().core.listNamespacedPod({ namespace: 'vcluster-demo' })).items;
    expect(
      hostPods
        .map((p) => p.metadata?.name)
        .every((n) => /^nginx-deploy-[a-z0-9]+-[a-z0-9]+-x-ns1-x-demo$/.test(n ?? '')),
    ).toBe(true);
    expect(hostPods).toHaveLength(2);

    // `connect -- COMMAND` passes the command's exit code on, and leaves no kubeconfig (admin
    // credentials) behind once the command ended.
    expect(
      (await cli('connect', 'demo', '--kubeconfig', hostKubeconfigPath, '--', 'sh', '-c', 'exit 3')).code,
    ).toBe(3);
    expect(readdirSync(cliTmp)).toEqual([]);

    // The isolation objects are there.
    const quota = await host().core.readNamespacedResourceQuota({
      name: 'vc-demo',
      namespace: 'vcluster-demo',
    });
    expect(quota.spec?.hard?.['count/pods']).toBe('20');
    await host().networking.readNamespacedNetworkPolicy({ name: 'vc-work-demo', namespace: 'vcluster-demo' });

    await ok('pause', 'demo', '--kubeconfig', hostKubeconfigPath);
    await waitUntil(
      async () => (await host().core.listNamespacedPod({ namespace: 'vcluster-demo' })).items.length === 0,
      {
        what: 'host pods gone while paused',
      },
    );
    const paused = await cli('connect', 'demo', '--kubeconfig', hostKubeconfigPath, '--print');
    expect(paused.code).not.toBe(0);
    expect(paused.stderr).toContain('resume');

    await ok('resume', 'demo', '--kubeconfig', hostKubeconfigPath);
    expect(
      await kubectl('demo', 'get', 'configmap', 'keep-me', '-n', 'ns1', '-o', 'jsonpath={.data.a}'),
    ).toBe('b');
    await waitUntil(async () => (await availableReplicas()) === '2', {
      what: 'nginx-deploy available again after resume',
      timeoutMs: 60_000,
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await describeStall()}`);
    });
    await waitUntil(
      async () => (await host().core.listNamespacedPod({ namespace: 'vcluster-demo' })).items.length === 2,
      {
        what: 'two host pods after resume',
      },
    );

    const provider = localProvider({
      hostKubeconfig: inject('hostKubeconfig'),
      stateRoot: join(home, 'vclusters'),
    });
    await resetVirtualCluster(provider, { name: 'demo' });
    const namespaces = await kubectl('demo', 'get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(namespaces.split(' ')).not.toContain('ns1');
    expect((await host().core.listNamespacedPod({ namespace: 'vcluster-demo' })).items).toHaveLength(0);

    await ok('delete', 'demo', '--kubeconfig', hostKubeconfigPath);
    expect(await namespaceGone('vcluster-demo')).toBe(true);
    expect(existsSync(join(home, 'vclusters', 'vcluster-demo--demo'))).toBe(false);
    expect(pidsMentioning(join(home, 'vclusters'))).toEqual([]);
    const after = JSON.parse(await ok('list', '--kubeconfig', hostKubeconfigPath, '-o', 'json'));
    expect(after.map((c: { name: string }) => c.name)).not.toContain('demo');
  }, 300_000);

  it('cleans up a create killed halfway with delete', async () => {
    let child: ChildProcess | undefined;
    child = spawn(
      process.execPath,
      [entry, 'create', 'half', '--kubeconfig', hostKubeconfigPath, '--connect=false'],
      {
        env: env(),
        cwd: work,
        stdio: 'ignore',
      },
    );
    // Kill it once the runner was started: namespace made, control plane coming up.
    await waitUntil(async () => existsSync(join(home, 'vclusters', 'vcluster-half--half', 'runner.log')), {
      what: 'the create to reach the runner',
      intervalMs: 20,
    });
    child.kill('SIGKILL');
    child = undefined;
    await ok('delete', 'half', '--kubeconfig', hostKubeconfigPath);
    expect(await namespaceGone('vcluster-half')).toBe(true);
    expect(existsSync(join(home, 'vclusters', 'vcluster-half--half'))).toBe(false);
    expect(pidsMentioning(join(home, 'vclusters', 'vcluster-half--half'))).toEqual([]);
  });

  it('refuses a bad name and a namespace it does not own, with what to do', async () => {
    const bad = await cli('create', 'Bad_Name', '--kubeconfig', hostKubeconfigPath, '--connect=false');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not valid');
    await host().core.createNamespace({ body: { metadata: { name: 'someone-elses' } } });
    const taken = await cli(
      'create',
      'x1',
      '-n',
      'someone-elses',
      '--kubeconfig',
      hostKubeconfigPath,
      '--connect=false',
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('not managed by vcluster-preview');
    await host().core.readNamespace({ name: 'someone-elses' });
    await host().core.deleteNamespace({ name: 'someone-elses' });
    const none = await cli('list');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('host up');
  });

  it('keeps two virtual clusters apart: names, network policies, quotas', async () => {
    await Promise.all([
      ok('create', 'iso-a', '--kubeconfig', hostKubeconfigPath, '--connect=false'),
      ok('create', 'iso-b', '--kubeconfig', hostKubeconfigPath, '--connect=false'),
    ]);
    await Promise.all([
      kubectl('iso-a', 'run', 'same', '--image=nginx'),
      kubectl('iso-b', 'run', 'same', '--image=nginx'),
    ]);
    for (const name of ['iso-a', 'iso-b']) {
      const namespace = `vcluster-${name}`;
      const pods = await waitUntil(
        async () => {
          const list = (await host().core.listNamespacedPod({ namespace })).items;
          return list.length === 1 ? list : undefined;
        },
        { what: `one host pod in ${namespace}` },
      );
      expect(pods[0]?.metadata?.name).toBe(`same-x-default-x-${name}`);
      const policy = await host().networking.readNamespacedNetworkPolicy({
        name: `vc-work-${name}`,
        namespace,
      });
      expect(policy.spec?.podSelector?.matchLabels).toEqual({ 'vcluster.loft.sh/managed-by': name });
      await host().core.readNamespacedResourceQuota({ name: `vc-${name}`, namespace });
    }
    await Promise.all([
      ok('delete', 'iso-a', '--kubeconfig', hostKubeconfigPath),
      ok('delete', 'iso-b', '--kubeconfig', hostKubeconfigPath),
    ]);
  });
});
