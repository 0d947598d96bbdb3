import type { ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { issueCertificate } from '../../controlplane/certs.ts';
import { createClusterCertificates, freePort } from '../../controlplane/index.ts';
import { waitUntil } from '../../kube/wait.ts';
import { kubeconfigFile } from '../support/kubectl.ts';
import { startSyncerProcess } from '../support/syncer-process.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

interface Answer {
  status: number;
  body: string;
}

/**
 * The fake nodes' kubelet API of `vcluster-preview syncer --kubelet-port`, as the virtual API server
 * meets it: the nodes advertise it, and it lets in only client certificates of the virtual cluster's
 * CA whose user may use `nodes/proxy`. (Logs, exec and port-forward through it to running containers:
 * test/realnode/virtual-cluster.test.ts.)
 */
describe('the syncer’s kubelet API for its fake nodes', () => {
  let vc: VirtualClusterUnderTest;
  let child: ChildProcess | undefined;
  let port: number;

  const get = (path: string, client?: { cert: string; key: string }): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, method: 'GET', rejectUnauthorized: false, ...(client ?? {}) },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const admin = () => ({ cert: vc.cluster.certificates.admin.cert, key: vc.cluster.certificates.admin.key });

  beforeAll(async () => {
    vc = await startVirtualCluster();
    await vc.stopSyncer();
    port = await freePort();
    const syncer = await startSyncerProcess({
      name: vc.name,
      hostNamespace: vc.hostNamespace,
      hostKubeconfigPath: await kubeconfigFile(inject('hostKubeconfig')),
      virtualKubeconfigPath: vc.kubeconfigPath,
      extraArgs: [
        `--kubelet-port=${port}`,
        '--kubelet-address=127.0.0.1',
        '--kubelet-bind-address=127.0.0.1',
      ],
    });
    child = syncer.child;
    await vc.virtual.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    });
    await waitUntil(
      async () =>
        (await vc.virtual.core.readNamespacedPod({ name: 'web', namespace: 'default' })).spec?.nodeName,
      { what: 'the virtual pod bound to a fake node' },
    );
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await vc?.stop();
  });

  it('is what the fake node advertises: InternalIP and kubelet port', async () => {
    const pod = await vc.virtual.core.readNamespacedPod({ name: 'web', namespace: 'default' });
    const node = await waitUntil(() => vc.virtual.core.readNode({ name: pod.spec!.nodeName! }), {
      what: 'the fake node',
    });
    expect(node.metadata?.labels?.['vcluster.loft.sh/fake-node']).toBe('true');
    expect(node.status?.addresses?.[0]).toEqual({ type: 'InternalIP', address: '127.0.0.1' });
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(port);
  });

  it('refuses a caller without a client certificate, or with one of another CA', async () => {
    expect((await get('/containerLogs/default/web/web')).status).toBe(401);
    const stranger = await createClusterCertificates();
    const answer = await get('/containerLogs/default/web/web', stranger.admin);
    expect(answer.status).toBe(401);
    expect(answer.body).toContain('client certificate of the virtual cluster CA');
  });

  it('refuses a user of the virtual cluster who may not use nodes/proxy', async () => {
    const user = await issueCertificate(vc.cluster.certificates.ca, {
      subject: 'CN=developer, O=developers',
      usage: '1.3.6.1.5.5.7.3.2',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
    });
    const answer = await get('/exec/default/web/web?command=ls&output=1', user);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('user=developer, verb=create, resource=nodes, subresource=proxy');
  });

  it('answers 404 for a pod the virtual cluster does not have, and for endpoints it does not serve', async () => {
    const missing = await get('/containerLogs/default/nobody/web', admin());
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('pod default/nobody not found');
    expect((await get('/stats/summary', admin())).status).toBe(404);
  });

  it('passes an allowed request on to the host pod’s subresource and relays the host’s answer', async () => {
    // kwok nodes have no kubelet: the host API server itself answers that it cannot reach one,
    // naming the host twin of the virtual pod.
    const answer = await get('/containerLogs/default/web/no-such-container', admin());
    expect(answer.status).toBe(400);
    expect(answer.body).toContain(`web-x-default-x-${vc.name}`);
    expect(answer.body).toContain('no-such-container');
  });
  it('moves the fake node to where a restarted syncer serves it', async () => {
    child?.kill('SIGKILL');
    const previous = port;
    port = await freePort();
    const syncer = await startSyncerProcess({
      name: vc.name,
      hostNamespace: vc.hostNamespace,
      hostKubeconfigPath: await kubeconfigFile(inject('hostKubeconfig')),
      virtualKubeconfigPath: vc.kubeconfigPath,
      extraArgs: [
        `--kubelet-port=${port}`,
        '--kubelet-address=127.0.0.1',
        '--kubelet-bind-address=127.0.0.1',
      ],
    });
    child = syncer.child;
    const pod = await vc.virtual.core.readNamespacedPod({ name: 'web', namespace: 'default' });
    const node = await waitUntil(
      async () => {
        const current = await vc.virtual.core.readNode({ name: pod.spec!.nodeName! });
        return current.status?.daemonEndpoints?.kubeletEndpoint?.Port === port ? current : undefined;
      },
      { what: `the fake node to advertise port ${port} instead of ${previous}` },
    );
    expect(node.status?.addresses?.filter((a) => a.type === 'InternalIP')).toEqual([
      { type: 'InternalIP', address: '127.0.0.1' },
    ]);
    expect((await get('/containerLogs/default/nobody/web', admin())).status).toBe(404);
  });
});
