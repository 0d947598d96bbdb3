import { describe, expect, it } from 'vitest';
import { fakeNode, fakeNodeEndpointPatch, fakeNodeHeartbeat, isFakeNode } from './node.ts';

const now = new Date('2024-05-01T10:00:00Z');

describe('fakeNode', () => {
  const node = fakeNode('kind-worker', { now, internalIP: '10.96.200.1' });

  it.each([
    ['vcluster.loft.sh/fake-node', 'true'],
    ['kubernetes.io/hostname', 'fake-kind-worker'],
    ['kubernetes.io/os', 'linux'],
    ['kubernetes.io/arch', 'amd64'],
  ])('label %s = %s', (key, value) => {
    expect(node.metadata?.labels?.[key]).toBe(value);
  });

  it('keeps the host node name', () => {
    expect(node.metadata?.name).toBe('kind-worker');
  });

  it.each([
    ['cpu', '16'],
    ['memory', '32Gi'],
    ['pods', '110'],
  ])('capacity and allocatable %s = %s', (resource, amount) => {
    expect(node.status?.capacity?.[resource]).toBe(amount);
    expect(node.status?.allocatable?.[resource]).toBe(amount);
  });

  it('is Ready since now and has no pressure', () => {
    expect(node.status?.conditions?.map((c) => [c.type, c.status])).toStrictEqual([
      ['MemoryPressure', 'False'],
      ['DiskPressure', 'False'],
      ['PIDPressure', 'False'],
      ['Ready', 'True'],
    ]);
    expect(node.status?.conditions?.[3]?.lastHeartbeatTime).toStrictEqual(now);
  });

  it('lists its addresses', () => {
    expect(node.status?.addresses).toStrictEqual([
      { type: 'InternalIP', address: '10.96.200.1' },
      { type: 'Hostname', address: 'fake-kind-worker' },
    ]);
    expect(fakeNode('n', { now }).status?.addresses).toStrictEqual([{ type: 'Hostname', address: 'fake-n' }]);
  });

  it('is deterministic', () => {
    expect(fakeNode('kind-worker', { now, internalIP: '10.96.200.1' })).toStrictEqual(node);
    expect(node.status?.nodeInfo?.bootID).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(fakeNode('other', { now }).status?.nodeInfo?.bootID).not.toBe(node.status?.nodeInfo?.bootID);
  });
});

describe('fakeNodeHeartbeat', () => {
  it('refreshes heartbeats and keeps transition times', () => {
    const later = new Date('2024-05-01T10:01:00Z');
    const conditions = fakeNodeHeartbeat(fakeNode('n', { now }), later);
    expect(conditions.every((c) => c.lastHeartbeatTime?.getTime() === later.getTime())).toBe(true);
    expect(conditions.every((c) => c.lastTransitionTime?.getTime() === now.getTime())).toBe(true);
  });
});

describe('isFakeNode', () => {
  it.each<{ labels: Record<string, string> | undefined; expected: boolean }>([
    { labels: { 'vcluster.loft.sh/fake-node': 'true' }, expected: true },
    { labels: { 'kubernetes.io/hostname': 'real' }, expected: false },
    { labels: undefined, expected: false },
  ])('$labels → $expected', ({ labels, expected }) => {
    expect(isFakeNode({ metadata: { labels } })).toBe(expected);
  });
});

describe('fakeNodeEndpointPatch', () => {
  const endpoint = { address: '127.0.0.1', port: 40123 };

  it('is nothing for a node that already advertises the endpoint', () => {
    expect(
      fakeNodeEndpointPatch(fakeNode('n', { now, internalIP: '127.0.0.1', kubeletPort: 40123 }), endpoint),
    ).toBe(undefined);
  });

  it('moves a node made without a kubelet API to the endpoint, InternalIP first, Hostname kept', () => {
    expect(fakeNodeEndpointPatch(fakeNode('n', { now }), endpoint)).toEqual({
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: 'fake-n' },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 40123 } },
    });
  });

  it('replaces the port a previous syncer served on', () => {
    const patch = fakeNodeEndpointPatch(
      fakeNode('n', { now, internalIP: '127.0.0.1', kubeletPort: 39000 }),
      endpoint,
    );
    expect(patch?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(40123);
    expect(patch?.addresses?.filter((a) => a.type === 'InternalIP')).toEqual([
      { type: 'InternalIP', address: '127.0.0.1' },
    ]);
  });
});
