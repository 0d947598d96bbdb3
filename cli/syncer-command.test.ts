import { describe, expect, it } from 'vitest';
import { parseAllowedServiceTypes, parseSyncerFlags, SyncerFlagError } from './syncer-command.ts';

const flags = {
  name: 'pr-12',
  hostNamespace: 'preview-pr-12',
  virtualKubeconfig: '/tmp/vc.yaml',
  workers: '16',
  healthPort: '8080',
  enforcePodSecurity: 'baseline',
  readHostNodes: 'true',
  kubeletPort: '0',
};

describe('--allow-service-types', () => {
  it.each<{ value: string | undefined; expected: string[] }>([
    { value: undefined, expected: [] },
    { value: '', expected: [] },
    { value: 'NodePort', expected: ['NodePort'] },
    { value: 'NodePort, LoadBalancer,NodePort', expected: ['NodePort', 'LoadBalancer'] },
  ])('"$value" → $expected', ({ value, expected }) => {
    expect(parseAllowedServiceTypes(value)).toEqual(expected);
  });

  it.each(['ExternalName', 'ClusterIP', 'nodeport'])('refuses %s and says what would work', (value) => {
    expect(() => parseAllowedServiceTypes(value)).toThrow(SyncerFlagError);
    expect(() => parseAllowedServiceTypes(value)).toThrow(
      `--allow-service-types: "${value}" is not a service type that can be allowed; use a comma-separated list of NodePort, LoadBalancer`,
    );
  });

  it('defaults to none through the flags', () => {
    expect(parseSyncerFlags(flags).allowedServiceTypes).toEqual([]);
    expect(parseSyncerFlags({ ...flags, allowServiceTypes: 'LoadBalancer' }).allowedServiceTypes).toEqual([
      'LoadBalancer',
    ]);
  });
});

describe('--ingress-class', () => {
  it('is the class every host Ingress gets, and must be a Kubernetes name', () => {
    expect(parseSyncerFlags(flags).ingressClassName).toBeUndefined();
    expect(parseSyncerFlags({ ...flags, ingressClass: 'traefik' }).ingressClassName).toBe('traefik');
    expect(() => parseSyncerFlags({ ...flags, ingressClass: 'Bad Class' })).toThrow(
      '--ingress-class: "Bad Class" is not a valid Kubernetes object name',
    );
  });
});
