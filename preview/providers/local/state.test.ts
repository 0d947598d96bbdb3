import { describe, expect, it } from 'vitest';
import { type LocalClusterConfig, syncerSettingsChanged } from './state.ts';

const config: LocalClusterConfig = {
  name: 'pr-1',
  namespace: 'preview-pr-1',
  hostKubeconfigPath: '/state/host.kubeconfig',
  serviceCIDR: '10.96.0.0/12',
  allowedHostSuffix: 'pr-1.preview.test',
  podSecurityStandard: 'restricted',
  volumeFence: { allowedCsiDrivers: [] },
};

describe('syncerSettingsChanged', () => {
  it.each<[string, Partial<LocalClusterConfig>, boolean]>([
    ['nothing', {}, false],
    ['the service range only (not the syncer’s)', { serviceCIDR: '10.0.0.0/16' }, false],
    ['the Pod Security level', { podSecurityStandard: 'baseline' }, true],
    ['the allowed host suffix', { allowedHostSuffix: 'pr-2.preview.test' }, true],
    ['the IngressClass', { ingressClassName: 'traefik' }, true],
    [
      'the storage classes',
      { volumeFence: { allowedCsiDrivers: [], allowedStorageClasses: ['fast'] } },
      true,
    ],
    ['an equal volume fence', { volumeFence: { allowedCsiDrivers: [] } }, false],
  ])('%s', (_what, change, changed) => {
    expect(syncerSettingsChanged(config, { ...config, ...change })).toBe(changed);
  });
});
