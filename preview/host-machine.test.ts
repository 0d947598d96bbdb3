import { describe, expect, it } from 'vitest';
import { addressCidr, podReachableAddress } from './host-machine.ts';

describe('podReachableAddress', () => {
  const local = new Set(['10.0.0.5', 'fd00::5']);
  it.each([
    { endpoints: ['10.0.0.5'], want: '10.0.0.5' },
    { endpoints: ['192.168.1.1', 'fd00::5'], want: 'fd00::5' },
    // The host API server advertises another machine (a remote cluster) or loopback (kwok host).
    { endpoints: ['192.168.1.1'], want: undefined },
    { endpoints: ['127.0.0.1'], want: undefined },
    { endpoints: [], want: undefined },
  ])('$endpoints → $want', ({ endpoints, want }) => {
    expect(podReachableAddress(endpoints, local)).toBe(want);
  });
});

describe('addressCidr', () => {
  it.each([
    ['10.0.0.5', '10.0.0.5/32'],
    ['fd00::5', 'fd00::5/128'],
  ])('%s → %s', (address, cidr) => {
    expect(addressCidr(address)).toBe(cidr);
  });
});
