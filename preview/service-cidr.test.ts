import { describe, expect, it } from 'vitest';
import { parseServiceCIDR } from './service-cidr.ts';

describe('parseServiceCIDR', () => {
  it('reads the range from the API server message for an out-of-range ClusterIP', () => {
    const message =
      'The Service "probe" is invalid: spec.clusterIPs: Invalid value: ["1.1.1.1"]: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16';
    expect(parseServiceCIDR(message)).toBe('10.96.0.0/16');
  });

  it('reads it from a JSON Status body, followed by more text', () => {
    const body = JSON.stringify({
      kind: 'Status',
      message:
        'Service "probe" is invalid: spec.clusterIPs: Invalid value: []string{"4.4.4.4"}: provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16',
      code: 422,
    });
    expect(parseServiceCIDR(`HTTP-Code: 422\nBody: ${body}\nHeaders: {}`)).toBe('10.43.0.0/16');
  });

  it('reads IPv6 and several ranges', () => {
    expect(parseServiceCIDR('... The range of valid IPs is fd00:10:96::/112')).toBe('fd00:10:96::/112');
    expect(parseServiceCIDR('The range of valid IPs is 10.96.0.0/16, 10.97.0.0/16.')).toBe(
      '10.96.0.0/16,10.97.0.0/16',
    );
  });

  it('gives undefined for other messages', () => {
    expect(
      parseServiceCIDR('spec.clusterIPs[0]: Invalid value: ["2001:db8::1"]: IPv6 is not configured'),
    ).toBe(undefined);
    expect(parseServiceCIDR('')).toBe(undefined);
    expect(parseServiceCIDR('The range of valid IPs is unknown')).toBe(undefined);
  });
});
