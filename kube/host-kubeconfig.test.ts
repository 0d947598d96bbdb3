import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeConfigFromString } from './client.ts';
import { HostAccessError, inClusterKubeconfig, readHostKubeconfig } from './host-kubeconfig.ts';

describe('the host kubeconfig', () => {
  it('inside a pod is the service account: API server from the environment, CA and token by file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(dir, 'token'), 'token-1');
    const yaml = inClusterKubeconfig(
      { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      dir,
    );
    const config = kubeConfigFromString(yaml);
    expect(config.getCurrentCluster()).toMatchObject({
      server: 'https://10.96.0.1:443',
      caFile: `${dir}/ca.crt`,
    });
    expect(config.getCurrentUser()).toMatchObject({ name: 'service-account', token: 'token-1' });
    // kubectl and helm read `tokenFile` (again after a rotation); client-node reads `token-file`.
    expect(yaml).toContain(`tokenFile: ${dir}/token`);
  });

  it('brackets an IPv6 API server address', () => {
    const yaml = inClusterKubeconfig(
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' },
      '/sa',
    );
    expect(yaml).toContain('server: https://[fd00::1]:6443');
  });

  it('outside a pod and without KUBECONFIG says what to set', async () => {
    await expect(readHostKubeconfig(undefined, {}, '/nonexistent')).rejects.toThrow(
      /KUBECONFIG is not set and this is not a pod.*set KUBECONFIG/,
    );
    await expect(
      readHostKubeconfig(
        undefined,
        { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' },
        '/nonexistent',
      ),
    ).rejects.toThrow(HostAccessError);
  });

  it('reads the token file where the pod has one, and the KUBECONFIG file when it is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(dir, 'token'), 'token-1');
    const inPod = await readHostKubeconfig(
      undefined,
      { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' },
      dir,
    );
    expect(inPod).toContain(`tokenFile: ${dir}/token`);
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\n');
    await expect(readHostKubeconfig(file, {}, dir)).resolves.toBe('apiVersion: v1\nkind: Config\n');
  });
});
