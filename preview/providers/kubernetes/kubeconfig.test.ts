import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { VirtualClusterError } from '../../provider.ts';
import { clusterIPServer, defaultApiAccess, kubeconfigWithServer } from './kubeconfig.ts';
import { inClusterServer } from './names.ts';

describe('where the virtual API server is reached', () => {
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
  - name: vc
    cluster:
      server: https://vc.vcluster-vc.svc:443
      certificate-authority-data: Q0E=
users:
  - name: admin
    user: { client-certificate-data: Q0VSVA==, client-key-data: S0VZ }
contexts:
  - name: vc
    context: { cluster: vc, user: admin }
current-context: vc
`;

  it('names the Service in the cluster and its ClusterIP elsewhere', () => {
    expect(inClusterServer('vc', 'vcluster-vc')).toBe('https://vc.vcluster-vc.svc:443');
    expect(clusterIPServer('10.96.3.4')).toBe('https://10.96.3.4:443');
    expect(clusterIPServer('fd00::3:4')).toBe('https://[fd00::3:4]:443');
    expect(defaultApiAccess({ KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBe('service');
    expect(defaultApiAccess({})).toBe('cluster-ip');
  });

  it('replaces the server of a kubeconfig and keeps its credentials', () => {
    const config = parse(kubeconfigWithServer(kubeconfig, 'https://10.96.3.4:443'));
    expect(config.clusters[0].cluster).toEqual({
      server: 'https://10.96.3.4:443',
      'certificate-authority-data': 'Q0E=',
    });
    expect(config.users[0].user['client-key-data']).toBe('S0VZ');
    expect(config['current-context']).toBe('vc');
    expect(() => kubeconfigWithServer('kind: Config\n', 'https://x')).toThrow(VirtualClusterError);
  });
});
