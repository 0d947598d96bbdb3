import { type ChildProcess, execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { isNotFound, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { kubeconfigFile } from '../support/kubectl.ts';
import { startSyncerProcess } from '../support/syncer-process.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

const cli = join(import.meta.dirname, '..', '..', 'cli', 'vcluster-preview.js');
const run = promisify(execFile);
const WAIT = { timeoutMs: 60_000 };
const decode = (data: string | undefined) => Buffer.from(data ?? '', 'base64').toString('utf8');

describe('vcluster-preview syncer with the chart’s flags', () => {
  let vc: VirtualClusterUnderTest;
  let child: ChildProcess | undefined;
  let hostKubeconfig: string;
  let hostService: V1Service;
  const secretName = () => `vc-${vc.name}`;
  const corednsConfigMap = () => `${vc.name}-coredns`;
  // The virtual API server under another name its certificate holds, so the replacement shows.
  const kubeconfigServer = () => vc.cluster.server.replace('127.0.0.1', 'localhost');

  beforeAll(async () => {
    vc = await startVirtualCluster();
    await vc.stopSyncer();
    hostKubeconfig = await kubeconfigFile(inject('hostKubeconfig'));

    // What the chart puts in the host namespace before the syncer starts.
    await vc.host.core.createNamespacedConfigMap({
      namespace: vc.hostNamespace,
      body: {
        metadata: { name: corednsConfigMap() },
        data: {
          'coredns.yaml': [
            stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dns-test' } }),
            stringify({
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'hello', namespace: 'dns-test' },
              data: { greeting: 'hi' },
            }),
            '', // an empty document is skipped
          ].join('---\n'),
        },
      },
    });
    hostService = await vc.host.core.createNamespacedService({
      namespace: vc.hostNamespace,
      body: {
        metadata: { name: vc.name },
        spec: { ports: [{ name: 'https', port: 443, targetPort: 8443 }], selector: { app: 'vcluster' } },
      },
    });

    const syncer = await startSyncerProcess({
      name: vc.name,
      hostNamespace: vc.hostNamespace,
      hostKubeconfigPath: hostKubeconfig,
      virtualKubeconfigPath: vc.kubeconfigPath,
      extraArgs: [
        '--enforce-pod-security=baseline',
        '--service-name',
        vc.name,
        '--kubeconfig-secret',
        secretName(),
        '--kubeconfig-server',
        kubeconfigServer(),
        '--coredns-configmap',
        corednsConfigMap(),
        '--read-host-nodes=false',
      ],
      readyTimeoutMs: WAIT.timeoutMs,
    });
    child = syncer.child;
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await vc?.stop();
  });

  it('writes the users’ kubeconfig Secret, and its config works against the virtual API server', async () => {
    const secret = await vc.host.core.readNamespacedSecret({
      name: secretName(),
      namespace: vc.hostNamespace,
    });
    expect(Object.keys(secret.data ?? {}).sort()).toEqual([
      'certificate-authority',
      'client-certificate',
      'client-key',
      'config',
    ]);
    expect(decode(secret.data?.['certificate-authority'])).toBe(vc.cluster.certificates.ca.cert);
    expect(decode(secret.data?.['client-certificate'])).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(decode(secret.data?.['client-key'])).toMatch(/PRIVATE KEY-----/);

    const config = decode(secret.data?.config);
    expect(parse(config).clusters[0].cluster.server).toBe(kubeconfigServer());
    const users = kubeClients(config);
    const namespaces = (await users.core.listNamespace()).items.map((ns) => ns.metadata?.name);
    expect(namespaces).toContain('kube-system');
    expect(namespaces).toContain('dns-test');
  });

  it('server-side applied the CoreDNS manifests into the virtual cluster', async () => {
    const configMap = await vc.virtual.core.readNamespacedConfigMap({ name: 'hello', namespace: 'dns-test' });
    expect(configMap.data).toEqual({ greeting: 'hi' });
    expect(
      configMap.metadata?.managedFields?.map((field) => [field.manager, field.operation]),
    ).toContainEqual(['vcluster-syncer', 'Apply']);
  });

  it('points synced pods at the host Service and makes it their owner', async () => {
    await vc.virtual.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    });
    const hostPod = await waitUntil(
      () =>
        vc.host.core.readNamespacedPod({ name: `web-x-default-x-${vc.name}`, namespace: vc.hostNamespace }),
      { what: 'the host pod', ...WAIT },
    );
    expect(hostPod.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Service', name: vc.name, uid: hostService.metadata?.uid }),
    ]);
    const env = Object.fromEntries((hostPod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env.KUBERNETES_SERVICE_HOST).toBe(hostService.spec?.clusterIP);
    expect(hostPod.spec?.hostAliases).toContainEqual(
      expect.objectContaining({ ip: hostService.spec?.clusterIP }),
    );
  });

  it('enforces the pod security level it was given', async () => {
    await vc.virtual.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'hostnet' },
        spec: { hostNetwork: true, containers: [{ name: 'web', image: 'nginx' }] },
      },
    });
    await waitUntil(
      async () =>
        (await vc.virtual.core.listNamespacedEvent({ namespace: 'default' })).items.some(
          (event) => event.reason === 'PodSecurityViolation' && event.involvedObject.name === 'hostnet',
        ),
      { what: 'the PodSecurityViolation event', ...WAIT },
    );
    await expect(
      vc.host.core.readNamespacedPod({ name: `hostnet-x-default-x-${vc.name}`, namespace: vc.hostNamespace }),
    ).rejects.toSatisfy(isNotFound);
  });

  it('exits non-zero with a clear message on a bad flag value', async () => {
    const syncer = (...flags: string[]) =>
      run(process.execPath, [
        cli,
        'syncer',
        `--name=${vc.name}`,
        `--host-namespace=${vc.hostNamespace}`,
        // The old name of --kubeconfig (what startSyncerProcess passes): the missing host Service
        // below is looked up through it.
        `--host-kubeconfig=${hostKubeconfig}`,
        `--virtual-kubeconfig=${vc.kubeconfigPath}`,
        '--health-port=0',
        ...flags,
      ]);
    await expect(syncer('--enforce-pod-security=strict')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        '--enforce-pod-security: "strict" is not a Pod Security Standard; use one of privileged, baseline, restricted',
      ),
    });
    await expect(
      syncer('--kubeconfig-secret', 'vc-x', '--kubeconfig-server', 'localhost:8443'),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--kubeconfig-server: "localhost:8443" is not an http(s) URL'),
    });
    await expect(
      syncer('--kubeconfig-secret', 'vc-x', '--kubeconfig-server', 'https://'),
    ).rejects.toMatchObject({
      code: 2,
    });
    await expect(syncer('--kubelet-port=10250', '--kubelet-address=fake-node.local')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--kubelet-address: "fake-node.local" is not an IP address'),
    });
    await expect(syncer('--kubelet-port=70000')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--kubelet-port: "70000" is not a whole number from 0 to 65535'),
    });
    // A missing host object is reported by name, and the process fails instead of syncing without it.
    await expect(syncer('--service-name', 'no-such-service')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`host Service ${vc.hostNamespace}/no-such-service does not exist`),
    });
  });
});
