import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { realNodeAddresses } from './addresses.ts';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  realNodePaths,
  registryHostsToml,
} from './configs.ts';

const addresses = realNodeAddresses(1);
const paths = realNodePaths('/tmp/node');

describe('real node configuration', () => {
  it('containerd: its own root, state and socket; the settings this machine needs', () => {
    const toml = containerdConfig(paths);
    expect(toml).toContain('root = "/tmp/node/containerd/root"');
    expect(toml).toContain('address = "/tmp/node/containerd/containerd.sock"');
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('netns_mounts_under_state_dir = true');
    expect(toml).toContain('SystemdCgroup = false');
    expect(toml).toContain('config_path = "/tmp/node/containerd/certs.d"');
    expect(toml).toContain('sandbox_image = "registry.k8s.io/pause:3.10"');
  });

  it('registry hosts: pull from the local registry under a path per upstream registry', () => {
    expect(registryHostsToml('ghcr.io', '10.87.1.1:5000')).toBe(
      'server = "https://ghcr.io"\n\n[host."http://10.87.1.1:5000/v2/ghcr.io"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n',
    );
  });

  it('CNI: a bridge on the slot’s pod range, no masquerade', () => {
    const config = JSON.parse(cniConfig(addresses, paths));
    const bridge = config.plugins[0];
    expect(bridge).toMatchObject({
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
    });
    expect(bridge.ipam.ranges).toEqual([[{ subnet: '10.88.1.0/24', gateway: '10.88.1.1' }]]);
    expect(bridge.ipam.dataDir).toBe('/tmp/node/cni/ipam');
  });

  it('kubelet: cgroup v1 allowed, serving on the node address, the API server authenticated by the cluster CA', () => {
    const config = parse(kubeletConfig(addresses, paths));
    expect(config).toMatchObject({
      kind: 'KubeletConfiguration',
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      address: '10.87.1.2',
      readOnlyPort: 0,
      containerRuntimeEndpoint: 'unix:///tmp/node/containerd/containerd.sock',
      // Its own pod logs: a kubelet removes the log folders of pods it does not know.
      podLogsDir: '/tmp/node/pod-logs',
      authentication: { anonymous: { enabled: false }, x509: { clientCAFile: '/tmp/node/ca.crt' } },
      authorization: { mode: 'Webhook' },
    });
  });

  it('kube-proxy: iptables mode for the slot’s pod range, leaving the machine’s conntrack settings alone', () => {
    const config = parse(kubeProxyConfig(addresses, paths, 'real-node'));
    expect(config).toMatchObject({
      mode: 'iptables',
      clusterCIDR: '10.88.1.0/24',
      hostnameOverride: 'real-node',
      conntrack: { maxPerCore: 0, min: 0 },
    });
  });
});
