import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyObjects } from '../../kube/apply.ts';
import { kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { isolationObjects } from '../../preview/isolation.ts';
import { podAccessPolicy } from '../../preview/providers/local/pod-access-policy.ts';
import { openThroughIngress } from '../support/ingress.ts';
import { kubeconfigFile, runBinary } from '../support/kubectl.ts';

const METADATA_IP = '169.254.169.254';

/**
 * NetworkPolicy as the real node enforces it. Two previews' namespaces are fenced as the local
 * provider fences them (its isolation objects and `vc-host-<name>`, with a listener of this machine
 * standing in for the virtual API server); a third namespace without policies shows that what is
 * refused is refused by the policies, not by a missing route. From a pod of preview A: its Service's
 * name resolves, its Service, pod and stand-in API server answer; preview B's pod, Service and
 * NodePort, the host API server and a metadata address do not, not even in a new pod's first
 * moment (before the engine has its address), when its first connection to its own Service still
 * goes through at once. B's page is still served through the ingress controller.
 */
describe('network isolation on the real node', () => {
  const hostKubeconfig = inject('realHostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const node = inject('realNode');
  const suffix = randomBytes(3).toString('hex');
  const previews = { a: `neta-${suffix}`, b: `netb-${suffix}` };
  const open = `netc-${suffix}`;
  const apiServerPort = Number(new URL(hostServer(hostKubeconfig)).port);
  let kubeconfig: string;
  let virtualApi: Server;
  let metadata: ChildProcess | undefined;
  const addresses: Record<string, { pod: string; service: string; nodePort: number }> = {};
  let nodeIP: string;

  beforeAll(async () => {
    kubeconfig = await kubeconfigFile(hostKubeconfig);
    virtualApi = await listen(
      createServer((_, res) => res.end('virtual api')),
      node.hostIP,
    );
    metadata = await startMetadataListener(node.netns);
    for (const [key, name] of Object.entries(previews)) {
      await host.core.createNamespace({ body: { metadata: { name } } });
      const port = (virtualApi.address() as AddressInfo).port;
      await applyObjects(
        host,
        [
          ...isolationObjects(name, name, { quota: false }),
          podAccessPolicy(name, name, { address: node.hostIP, apiServerPort: port }),
        ],
        'vcluster-preview',
      );
      // As the syncer labels the pods of a virtual cluster.
      const labels = { 'vcluster.loft.sh/managed-by': name };
      await host.core.createNamespacedPod({ namespace: name, body: webPod(labels) });
      await host.core.createNamespacedService({
        namespace: name,
        body: {
          metadata: { name: 'web' },
          // NodePort: the node forwards those too, and kube-proxy marks them for masquerading.
          spec: {
            type: 'NodePort',
            selector: { ...labels, app: 'web' },
            ports: [{ port: 80, protocol: 'TCP' }],
          },
        },
      });
      if (key === 'a') await host.core.createNamespacedPod({ namespace: name, body: clientPod(labels) });
    }
    await host.core.createNamespace({ body: { metadata: { name: open } } });
    await host.core.createNamespacedPod({ namespace: open, body: clientPod({}) });
    for (const name of [...Object.values(previews), open]) {
      await runBinary(
        'kubectl',
        ['-n', name, 'wait', 'pod', '--all', '--for=condition=Ready', '--timeout=90s'],
        {
          kubeconfig,
        },
      );
    }
    for (const name of Object.values(previews)) {
      const pod = await host.core.readNamespacedPod({ name: 'web', namespace: name });
      const service = await host.core.readNamespacedService({ name: 'web', namespace: name });
      addresses[name] = {
        pod: pod.status!.podIP!,
        service: service.spec!.clusterIP!,
        nodePort: service.spec!.ports![0]!.nodePort!,
      };
    }
    const realNode = await host.core.readNode({ name: 'real-node' });
    nodeIP = realNode.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
  });

  afterAll(async () => {
    for (const name of [...Object.values(previews), open]) {
      await runBinary('kubectl', ['delete', 'namespace', name, '--wait=false', '--ignore-not-found'], {
        kubeconfig,
      }).catch(() => {});
    }
    metadata?.kill('SIGTERM');
    execFileSync('ip', ['-n', node.netns, 'addr', 'del', `${METADATA_IP}/32`, 'dev', 'lo'], {
      stdio: 'ignore',
    });
    await new Promise((resolve) => virtualApi?.close(resolve));
  });

  /** An HTTP request from a pod with busybox's nc: whether an HTTP answer came back within 3 s. */
  const answers = async (namespace: string, target: string, port: number) => {
    const output = await runBinary(
      'kubectl',
      [
        '-n',
        namespace,
        'exec',
        'client',
        '--',
        'sh',
        '-c',
        `printf 'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' | nc -w 3 ${target} ${port} 2>&1; true`,
      ],
      { kubeconfig },
    );
    return /HTTP\/1\.[01] \d{3}/.test(output);
  };

  it('a preview’s pod resolves and reaches its own Service, its own pods and its own API server', async () => {
    const a = previews.a;
    const lookup = await runBinary(
      'kubectl',
      ['-n', a, 'exec', 'client', '--', 'nslookup', `web.${a}.svc.cluster.local`],
      { kubeconfig },
    );
    expect(lookup).toContain(addresses[a]!.service);
    expect(await answers(a, addresses[a]!.service, 80)).toBe(true);
    expect(await answers(a, addresses[a]!.pod, 80)).toBe(true);
    expect(await answers(a, node.hostIP, (virtualApi.address() as AddressInfo).port)).toBe(true);
  });

  it('refuses another preview’s pod, Service and NodePort (both ways), the host API server and the metadata address', async () => {
    const { a, b } = previews;
    const targets: [string, number][] = [
      [addresses[b]!.pod, 80],
      [addresses[b]!.service, 80],
      [nodeIP, addresses[b]!.nodePort],
      [node.hostIP, apiServerPort],
      [node.kubernetesServiceIP, 443],
      [METADATA_IP, 80],
    ];
    const fromPreview = await Promise.all(targets.map(([ip, port]) => answers(a, ip, port)));
    expect(Object.fromEntries(targets.map(([ip, port], i) => [`${ip}:${port}`, fromPreview[i]]))).toEqual(
      Object.fromEntries(targets.map(([ip, port]) => [`${ip}:${port}`, false])),
    );
    // A pod that no policy fences reaches the host API server and the metadata address: A's policies
    // refuse them, not the network. B's pod and Service stay refused: B's policies fence it in too.
    const fromOpen = await Promise.all(targets.map(([ip, port]) => answers(open, ip, port)));
    expect(fromOpen).toEqual([false, false, false, true, true, true]);
    // B's NodePort itself works: this machine, which B's policies let in, gets the page.
    const page = await fetch(`http://${nodeIP}:${addresses[b]!.nodePort}/`, {
      signal: AbortSignal.timeout(5000),
    });
    expect(await page.text()).toContain('Welcome to nginx!');
  });

  it('fences a new pod from its first packet, and its first connection to its own Service succeeds', async () => {
    const a = previews.a;
    // Its first packets leave before the engine has the pod's address from the API server.
    const labels = { 'vcluster.loft.sh/managed-by': a };
    await host.core.createNamespacedPod({
      namespace: a,
      body: {
        metadata: { name: 'starter', labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'starter',
              image: 'busybox',
              // Present already (the client's): the container starts right after its sandbox.
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', starterScript(node.hostIP, apiServerPort)],
            },
          ],
        },
      },
    });
    const log = await waitUntil(
      async () => {
        const text = await runBinary('kubectl', ['-n', a, 'logs', 'starter'], { kubeconfig }).catch(() => '');
        return text.includes('done ') ? text : undefined;
      },
      { what: 'the starter pod to finish its attempts', timeoutMs: 60_000 },
    );
    const at = (what: string) =>
      log
        .split('\n')
        .filter((line) => line.startsWith(`${what} `))
        .map((line) => Number(line.split(' ')[1]));
    expect({ metadata: at('metadata'), hostApi: at('host-api') }, log).toEqual({ metadata: [], hostApi: [] });
    const [start] = at('start');
    const [ownService] = at('own-service');
    expect(ownService, log).toBeDefined();
    // Held until the engine knows the pod, never dropped: sooner than TCP's first retransmission
    // (1 s) or a DNS retry (5 s).
    expect(ownService! - start!, log).toBeLessThan(1);
  });

  it('still serves a preview’s page through the ingress controller', async () => {
    const b = previews.b;
    const hostName = `${b}.preview.localhost`;
    await runBinary('kubectl', ['-n', b, 'create', 'ingress', 'web', `--rule=${hostName}/*=web:80`], {
      kubeconfig,
    });
    const body = await waitUntil(
      async () => {
        const page = await openThroughIngress(`http://${hostName}/`, inject('ingressUrl')).catch(
          () => undefined,
        );
        return page?.status === 200 ? page.body : undefined;
      },
      { what: `the ingress controller to serve ${hostName}`, timeoutMs: 30_000 },
    );
    expect(body).toContain('Welcome to nginx!');
  });
});

function hostServer(kubeconfigYaml: string): string {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml);
  return kc.getCurrentCluster()!.server;
}

function webPod(labels: Record<string, string>): V1Pod {
  return {
    metadata: { name: 'web', labels: { ...labels, app: 'web' } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }],
    },
  };
}

function clientPod(labels: Record<string, string>): V1Pod {
  return {
    metadata: { name: 'client', labels },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'client', image: 'busybox', command: ['sleep', '3600'] }],
    },
  };
}

/**
 * From the container's first moment: one connection to its own Service by name (DNS, then TCP,
 * 10 s allowed), and for 3 s, every 0.1 s, one to the metadata address and one to the host API
 * server; each success is printed with the machine's uptime.
 */
function starterScript(hostIP: string, apiServerPort: number): string {
  return [
    "up() { cut -d' ' -f1 /proc/uptime; }",
    'echo "start $(up)"',
    `get() { printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' | nc -w "$3" "$1" "$2" 2>/dev/null | grep -q 'HTTP/1'; }`,
    '(get web 80 10 && echo "own-service $(up)") &',
    'i=0',
    'while [ $i -lt 30 ]; do',
    `  (get ${METADATA_IP} 80 1 && echo "metadata $(up)") &`,
    `  (get ${hostIP} ${apiServerPort} 1 && echo "host-api $(up)") &`,
    '  sleep 0.1; i=$((i+1))',
    'done',
    'wait',
    'echo "done $(up)"',
    'sleep 3600',
  ].join('\n');
}

function listen(server: Server, address: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve(server));
  });
}

/**
 * A cloud metadata endpoint inside the node's namespace, as a cloud machine has one: an HTTP server
 * on 169.254.169.254 (an address of the namespace's loopback), removed after the tests.
 */
async function startMetadataListener(netns: string): Promise<ChildProcess> {
  execFileSync('ip', ['-n', netns, 'addr', 'add', `${METADATA_IP}/32`, 'dev', 'lo']);
  const script = `require('node:http').createServer((_, res) => res.end('metadata')).listen(80, '${METADATA_IP}', () => console.log('listening'))`;
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the metadata listener exited (${code})`)));
  });
  return child;
}
