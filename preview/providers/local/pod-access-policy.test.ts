import { describe, expect, it } from 'vitest';
import { podAccessPolicy } from './pod-access-policy.ts';

describe('podAccessPolicy', () => {
  it.each([
    ['10.87.0.1', '10.87.0.1/32'],
    ['fd00::1', 'fd00::1/128'],
  ])(
    'lets the machine at %s reach the workloads, and them reach it on DNS and the API port only',
    (address, cidr) => {
      const policy = podAccessPolicy('pr-1', 'vcluster-pr-1', {
        address,
        apiServerPort: 40123,
      }) as unknown as {
        metadata: { name: string; namespace: string };
        spec: Record<string, unknown>;
      };
      expect(policy.metadata).toMatchObject({ name: 'vc-host-pr-1', namespace: 'vcluster-pr-1' });
      expect(policy.spec).toEqual({
        podSelector: { matchLabels: { 'vcluster.loft.sh/managed-by': 'pr-1' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ ipBlock: { cidr } }] }],
        egress: [
          {
            to: [{ ipBlock: { cidr } }],
            ports: [
              { port: 53, protocol: 'UDP' },
              { port: 53, protocol: 'TCP' },
              { port: 40123, protocol: 'TCP' },
            ],
          },
        ],
      });
    },
  );
});
