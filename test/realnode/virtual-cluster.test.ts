import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { localProvider } from '../../preview/providers/local/provider.ts';
import { hostName } from '../../syncer/translate/names.ts';
import { kubeconfigFile, runBinary } from '../support/kubectl.ts';

const run = promisify(execFile);

/**
 * The classic vcluster demo on the real node, with real kubectl through the virtual cluster's
 * kubeconfig (the local provider): a Deployment runs real containers, its Service answers from
 * another pod by DNS name and from this machine, and `kubectl logs`, `exec -i` and `port-forward`
 * reach the host pods through the syncer's kubelet API.
 */
describe('a virtual cluster whose pods run on the real node, used like vcluster', () => {
  const hostKubeconfig = inject('realHostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const node = inject('realNode');
  const name = `demo${randomBytes(3).toString('hex')}`;
  const namespace = `vcluster-${name}`;
  const provider = () => localProvider({ hostKubeconfig, stateRoot });
  let stateRoot: string;
  let kubeconfig: string;
  const kubectl = (...args: string[]) => runBinary('kubectl', args, { kubeconfig });
  const children: ChildProcess[] = [];

  /** A pod of the virtual cluster, as kubectl shows it. */
  const virtualPods = async (selector: string): Promise<V1Pod[]> =>
    (JSON.parse(await kubectl('get', 'pods', '-l', selector, '-o', 'json')) as { items: V1Pod[] }).items;

  beforeAll(async () => {
    stateRoot = await mkdtemp(join(tmpdir(), 'vcp-realnode-vc-'));
    await provider().create({ name });
    kubeconfig = await kubeconfigFile(await provider().kubeconfig({ name }));
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await provider().delete({ name });
  });

  it('runs a Deployment of nginx:1.27 with 2 available replicas in real containers on node real-node', async () => {
    await kubectl('create', 'deployment', 'nginx', '--image=nginx:1.27', '--replicas=2', '--port=80');
    await kubectl('rollout', 'status', 'deployment/nginx', '--timeout=120s');
    expect(await kubectl('get', 'deployment', 'nginx', '-o', 'jsonpath={.status.availableReplicas}')).toBe(
      '2',
    );

    const pods = await virtualPods('app=nginx');
    expect(pods).toHaveLength(2);
    const running = (await run('ctr', ['--address', node.containerdSocket, '-n', 'k8s.io', 'tasks', 'list']))
      .stdout;
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toBe('real-node');
      expect(pod.status?.podIP).toMatch(new RegExp(`^${node.podCIDR.split('.').slice(0, 3).join('\\.')}\\.`));
      const containerID = pod.status?.containerStatuses?.[0]?.containerID ?? '';
      expect(containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      // containerd on the node runs it: a real process, not a status someone wrote.
      expect(running).toMatch(
        new RegExp(`^${containerID.slice('containerd://'.length)}\\s+\\d+\\s+RUNNING`, 'm'),
      );
      const page = await fetch(`http://${pod.status!.podIP}/`);
      expect(await page.text()).toContain('Welcome to nginx!');
    }
    // The virtual node the pods are bound to is the syncer's fake node for the host's real-node.
    expect(
      await kubectl(
        'get',
        'node',
        'real-node',
        '-o',
        'jsonpath={.metadata.labels.vcluster\\.loft\\.sh/fake-node}',
      ),
    ).toBe('true');
  });

  it('shows the pod’s log with kubectl logs and runs commands with kubectl exec', async () => {
    const [pod] = await virtualPods('app=nginx');
    const podName = pod!.metadata!.name!;
    // The request this test made in the previous step, in nginx's access log.
    await fetch(`http://${pod!.status!.podIP}/from-the-test`);
    const log = await waitUntil(
      async () => {
        const text = await kubectl('logs', podName);
        return text.includes('GET /from-the-test HTTP/1.1') ? text : undefined;
      },
      { what: 'the request in kubectl logs', timeoutMs: 20_000 },
    );
    expect(log).toMatch(/"GET \/from-the-test HTTP\/1\.1" 404/);
    expect(await kubectl('logs', podName, '--tail=1')).toMatch(/GET \/from-the-test/);

    // nginx -v writes its version to stderr; kubectl passes it on.
    const version = await run(
      join(inject('binDir'), 'kubectl'),
      ['exec', podName, '--', '/usr/sbin/nginx', '-v'],
      {
        env: { ...process.env, KUBECONFIG: kubeconfig },
      },
    );
    expect(version.stderr).toContain('nginx version');
  });

  it('answers on the Service from another pod by DNS name and from this machine at the ClusterIP', async () => {
    await kubectl('expose', 'deployment', 'nginx', '--port=80');
    const virtualService = JSON.parse(await kubectl('get', 'service', 'nginx', '-o', 'json')) as V1Service;
    const clusterIP = virtualService.spec!.clusterIP!;
    const hostService = await host.core.readNamespacedService({
      name: hostName('nginx', 'default', name),
      namespace,
    });
    expect(hostService.spec?.clusterIP).toBe(clusterIP);
    const fromMachine = await waitUntil(
      async () => {
        const res = await fetch(`http://${clusterIP}/`, { signal: AbortSignal.timeout(2000) }).catch(
          () => undefined,
        );
        return res?.ok ? res.text() : undefined;
      },
      { what: `Service ${clusterIP} to answer from this machine`, timeoutMs: 30_000 },
    );
    expect(fromMachine).toContain('Welcome to nginx!');

    // sh as PID 1 ignores SIGTERM unless told: the trap lets the pod end at once when the cluster goes.
    await kubectl(
      'run',
      'client',
      '--image=busybox',
      '--restart=Never',
      '--command',
      '--',
      'sh',
      '-c',
      'trap "exit 0" TERM; sleep 3600 & wait',
    );
    await kubectl('wait', '--for=condition=Ready', 'pod/client', '--timeout=90s');
    // The pod's nameserver is the virtual cluster's CoreDNS, at its Service's host ClusterIP.
    const dns = JSON.parse(
      await kubectl('get', 'service', '-n', 'kube-system', 'kube-dns', '-o', 'json'),
    ) as V1Service;
    const resolvConf = await kubectl('exec', 'client', '--', 'cat', '/etc/resolv.conf');
    expect(resolvConf).toContain(`nameserver ${dns.spec!.clusterIP}`);
    expect(resolvConf).toContain('search default.svc.cluster.local svc.cluster.local cluster.local');

    const lookup = await waitUntil(
      async () => {
        // busybox's nslookup also asks for AAAA records and exits 1 when there is none: read its answer anyway.
        const answer = await kubectl(
          'exec',
          'client',
          '--',
          'nslookup',
          'nginx.default.svc.cluster.local',
        ).catch(
          (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
        );
        if (!answer.includes(clusterIP)) throw new Error(answer);
        return answer;
      },
      { what: 'nginx.default.svc.cluster.local to resolve in the pod', timeoutMs: 60_000 },
    );
    expect(lookup).toContain(`Address: ${clusterIP}`);
    // The short name the search list completes, as a user's app would call it.
    const page = await kubectl(
      'exec',
      'client',
      '--',
      'sh',
      '-c',
      `printf 'GET / HTTP/1.0\\r\\nHost: nginx\\r\\n\\r\\n' | nc -w 5 nginx.default 80`,
    );
    expect(page).toContain('HTTP/1.1 200 OK');
    expect(page).toContain('Welcome to nginx!');
  });

  it('passes stdin to the container with kubectl exec -i', async () => {
    const child = spawn(
      join(inject('binDir'), 'kubectl'),
      [
        'exec',
        '-i',
        'client',
        '--',
        'sh',
        '-c',
        'while read line; do echo "pod got: $line"; done; echo done',
      ],
      { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.write('first line\n');
    // The first answer comes back while the session is open: stdin and stdout really stream.
    await waitUntil(
      async () => {
        if (!stdout.includes('pod got: first line')) throw new Error(`stdout: ${stdout}, stderr: ${stderr}`);
        return true;
      },
      { what: 'the pod’s answer to the first line', timeoutMs: 20_000 },
    );
    child.stdin.end('second line\n');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('pod got: first line\npod got: second line\ndone\n');
  });

  it('forwards a local port to the pod with kubectl port-forward', async () => {
    const [pod] = await virtualPods('app=nginx');
    const child = spawn(
      join(inject('binDir'), 'kubectl'),
      ['port-forward', `pod/${pod!.metadata!.name}`, ':80', '--address=127.0.0.1'],
      { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const port = await waitUntil(
      async () => {
        const listening = /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(output)?.[1];
        if (!listening) throw new Error(`kubectl said: ${output}`);
        return listening;
      },
      { what: 'kubectl port-forward to listen', timeoutMs: 20_000 },
    );
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('Welcome to nginx!');
    }
    child.kill('SIGTERM');
  });
});
