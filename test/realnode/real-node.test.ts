import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { openThroughIngress } from '../support/ingress.ts';
import { kubeconfigFile, runBinary } from '../support/kubectl.ts';

/**
 * The shared real-node host cluster as a user of `host up --real-node` sees it: real containers
 * from the local registry under their upstream names, logs and exec, Service addresses that answer
 * from this machine and from pods, the API server reachable from pods, Ingresses served, and
 * claims of the default StorageClass given a volume on the node.
 */
describe('the embedded host with a real node', () => {
  const host = kubeClients(inject('realHostKubeconfig'));
  const namespace = `real-${randomBytes(3).toString('hex')}`;
  let kubeconfig: string;
  const kubectl = (...args: string[]) => runBinary('kubectl', ['-n', namespace, ...args], { kubeconfig });

  beforeAll(async () => {
    kubeconfig = await kubeconfigFile(inject('realHostKubeconfig'));
    await runBinary('kubectl', ['create', 'namespace', namespace], { kubeconfig });
  });
  afterAll(async () => {
    await runBinary('kubectl', ['delete', 'namespace', namespace, '--wait=false'], { kubeconfig });
  });

  it('runs a Deployment of nginx:1.27 pulled through the local registry, with logs and exec', async () => {
    await kubectl('create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80');
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=90s');
    const pods = await host.core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.spec?.nodeName).toBe('real-node');
      expect(pod.status?.podIP).toMatch(
        new RegExp(`^${inject('realNode').podCIDR.split('.').slice(0, 3).join('\\.')}\\.`),
      );
      // The page answers from this machine at the pod's own address.
      const page = await fetch(`http://${pod.status!.podIP}/`);
      expect(await page.text()).toContain('Welcome to nginx!');
    }
    const name = pods.items[0]!.metadata!.name!;
    await waitUntil(async () => (await kubectl('logs', name)).includes('GET / HTTP/1.1') || undefined, {
      what: 'the request in the pod log',
      timeoutMs: 15_000,
    });
    // `nginx -T` prints the configuration it runs with.
    expect(await kubectl('exec', name, '--', '/usr/sbin/nginx', '-T')).toContain('listen 80;');
  });

  it('answers on the Service address from this machine and from another pod, and pods reach the API server', async () => {
    await kubectl('expose', 'deployment', 'web', '--port=80', '--name=web');
    const service = await host.core.readNamespacedService({ name: 'web', namespace });
    const clusterIP = service.spec!.clusterIP!;
    const fromMachine = await waitUntil(
      async () => {
        const res = await fetch(`http://${clusterIP}/`, { signal: AbortSignal.timeout(2000) }).catch(
          () => undefined,
        );
        return res?.ok ? res.text() : undefined;
      },
      { what: `Service ${clusterIP} to answer`, timeoutMs: 30_000 },
    );
    expect(fromMachine).toContain('Welcome to nginx!');

    const apiServer = inject('realNode').kubernetesServiceIP;
    await kubectl(
      'run',
      'client',
      '--image=busybox',
      '--restart=Never',
      '--command',
      '--',
      'sh',
      '-c',
      `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${clusterIP} 80 && nc -w 5 ${apiServer} 443 </dev/null && echo api-server-reachable`,
    );
    const phase = await waitUntil(
      async () => {
        const pod = await host.core.readNamespacedPod({ name: 'client', namespace });
        return ['Succeeded', 'Failed'].includes(pod.status?.phase ?? '') ? pod.status!.phase : undefined;
      },
      { what: 'the client pod to finish', timeoutMs: 60_000 },
    );
    const log = await kubectl('logs', 'client');
    expect(phase, log).toBe('Succeeded');
    expect(log).toContain('Welcome to nginx!');
    expect(log).toContain('api-server-reachable');
  });

  it('serves an Ingress through the ingress controller', async () => {
    const hostName = `${namespace}.preview.localhost`;
    await kubectl('create', 'ingress', 'web', `--rule=${hostName}/*=web:80`);
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
    const other = await openThroughIngress('http://nobody.preview.localhost/', inject('ingressUrl'));
    expect(other.status).toBe(404);
  });

  it('gives a claim without a class a volume on the node that a non-root container writes; deleting the claim removes it', async () => {
    expect(await kubectl('get', 'storageclass', '-o', 'name')).toContain(
      'storageclass.storage.k8s.io/local-path',
    );
    await host.core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    // As the chart's etcd runs: not root, no fsGroup.
    const writer = (name: string, script: string) =>
      host.core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name },
          spec: {
            restartPolicy: 'Never',
            securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true },
            containers: [
              {
                name: 'main',
                image: 'busybox',
                command: ['sh', '-c', script],
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
          },
        },
      });
    const finished = (name: string) =>
      waitUntil(
        async () => {
          const pod = await host.core.readNamespacedPod({ name, namespace });
          return ['Succeeded', 'Failed'].includes(pod.status?.phase ?? '') ? pod.status!.phase : undefined;
        },
        { what: `pod ${name} to finish`, timeoutMs: 90_000 },
      );
    await writer('first', `echo ${namespace} > /data/note && echo written`);
    expect(await finished('first'), await kubectl('logs', 'first')).toBe('Succeeded');
    const claim = await host.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace });
    expect(claim.status?.phase).toBe('Bound');
    expect(claim.spec?.storageClassName).toBe('local-path');
    const volume = await host.core.readPersistentVolume({ name: claim.spec!.volumeName! });
    expect(volume.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values).toEqual([
      'real-node',
    ]);
    // The data is on the node (this machine's file system), and a second pod reads it.
    const folder = volume.spec!.hostPath!.path;
    expect(readFileSync(join(folder, 'note'), 'utf8')).toBe(`${namespace}\n`);
    await writer('second', 'cat /data/note');
    expect(await finished('second')).toBe('Succeeded');
    expect(await kubectl('logs', 'second')).toBe(`${namespace}\n`);

    await kubectl('delete', 'pod', 'first', 'second', '--wait=true');
    await kubectl('delete', 'pvc', 'data', '--wait=true');
    await waitUntil(
      async () =>
        !existsSync(folder) &&
        (await host.core.listPersistentVolume()).items.every(
          (pv) => pv.metadata?.name !== volume.metadata?.name,
        ),
      { what: 'the volume and its folder removed', timeoutMs: 90_000 },
    );
  }, 240_000);
});
