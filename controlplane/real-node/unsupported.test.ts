import { describe, expect, it } from 'vitest';
import { realNodeAddresses } from './addresses.ts';
import { realNodeUnsupportedReason } from './index.ts';

describe('realNodeUnsupportedReason', () => {
  it.each([
    [{ uid: 0, platform: 'linux', hasMemoryCgroup: true }, undefined],
    [
      { uid: 1000, platform: 'linux', hasMemoryCgroup: true },
      'a real node needs root (it makes network namespaces, mounts and containers)',
    ],
    [
      { uid: 0, platform: 'linux', hasMemoryCgroup: false },
      'a real node needs cgroups (no memory controller under /sys/fs/cgroup)',
    ],
    [
      { uid: undefined, platform: 'darwin', hasMemoryCgroup: false },
      'a real node needs Linux (this is darwin)',
    ],
  ])('%o → %s', (host, reason) => {
    expect(realNodeUnsupportedReason(host)).toBe(reason);
  });
});

describe('realNodeAddresses', () => {
  it('gives each slot its own namespace, link, pod and Service ranges', () => {
    expect(realNodeAddresses(0)).toMatchObject({
      netns: 'vcp-node-0',
      hostIP: '10.87.0.1',
      nodeIP: '10.87.0.2',
      podCIDR: '10.88.0.0/24',
      bridgeIP: '10.88.0.1',
      serviceCIDR: '10.96.0.0/16',
      kubernetesServiceIP: '10.96.0.1',
    });
    expect(realNodeAddresses(3)).toMatchObject({
      netns: 'vcp-node-3',
      hostIP: '10.87.3.1',
      podCIDR: '10.88.3.0/24',
      serviceCIDR: '10.99.0.0/16',
    });
  });

  it('refuses a slot out of range', () => {
    expect(() => realNodeAddresses(8)).toThrow('real node slot must be 0..7, got 8');
  });
});
