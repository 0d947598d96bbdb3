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

describe('--allow-csi-drivers and --allow-storage-classes', () => {
  it.each<{
    given: Partial<{ allowCsiDrivers: string; allowStorageClasses: string }>;
    csi: string[];
    classes: string[] | undefined;
  }>([
    { given: {}, csi: [], classes: undefined },
    { given: { allowCsiDrivers: 'a.csi, b.csi' }, csi: ['a.csi', 'b.csi'], classes: undefined },
    { given: { allowStorageClasses: 'fast,standard' }, csi: [], classes: ['fast', 'standard'] },
    // Set but empty: no named class at all, only the host's default.
    { given: { allowStorageClasses: '' }, csi: [], classes: [] },
  ])('$given → csi $csi, classes $classes', ({ given, csi, classes }) => {
    const options = parseSyncerFlags({ ...flags, ...given });
    expect(options.allowedCsiDrivers).toEqual(csi);
    expect(options.allowedStorageClasses).toEqual(classes);
  });
});

describe('--kubeconfig, the host cluster’s, as on every other command', () => {
  it.each<{
    given: Partial<typeof flags & { kubeconfig: string; hostKubeconfig: string }>;
    file: string | undefined;
  }>([
    { given: {}, file: undefined },
    { given: { kubeconfig: '/host.yaml' }, file: '/host.yaml' },
    // The old spelling, hidden from --help, still works.
    { given: { hostKubeconfig: '/old.yaml' }, file: '/old.yaml' },
  ])('$given → $file', ({ given, file }) => {
    expect(parseSyncerFlags({ ...flags, ...given }).hostKubeconfig).toBe(file);
  });

  it('is given once, not under both names', () => {
    expect(() => parseSyncerFlags({ ...flags, kubeconfig: '/a', hostKubeconfig: '/b' })).toThrow(
      '--host-kubeconfig is the old name of --kubeconfig: give the host cluster kubeconfig once, as --kubeconfig',
    );
  });

  it('--context selects a context of it', () => {
    expect(parseSyncerFlags(flags).hostContext).toBeUndefined();
    expect(parseSyncerFlags({ ...flags, context: 'kind-a' }).hostContext).toBe('kind-a');
  });
});
