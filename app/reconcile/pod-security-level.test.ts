import { describe, expect, it } from 'vitest';
import type { PodSecurityLevel } from '../../preview/index.ts';
import { BadConfigError } from '../errors/bad-config-error.ts';
import { type PodSecurityPolicy, podSecurityLevel } from './pod-security-level.ts';

const service: PodSecurityPolicy = { default: 'restricted', max: 'baseline' };

describe('podSecurityLevel', () => {
  it.each<[PodSecurityLevel | undefined, PodSecurityPolicy, PodSecurityLevel]>([
    // The defaults: restricted unless the repository lowers it to baseline.
    [undefined, service, 'restricted'],
    ['baseline', service, 'baseline'],
    ['restricted', service, 'restricted'],
    // A repository may always ask for stricter than the operator's default.
    ['restricted', { default: 'baseline', max: 'baseline' }, 'restricted'],
    [undefined, { default: 'baseline', max: 'restricted' }, 'baseline'],
    [undefined, { default: 'privileged', max: 'privileged' }, 'privileged'],
    ['baseline', { default: 'restricted', max: 'privileged' }, 'baseline'],
  ])('%s under %j → %s', (asked, policy, level) => {
    expect(podSecurityLevel(asked, policy)).toBe(level);
  });

  it.each<[PodSecurityLevel, PodSecurityPolicy, string]>([
    [
      'baseline',
      { default: 'restricted', max: 'restricted' },
      'podSecurity: baseline in .github/vcluster-preview.yml is looser than this service allows (restricted at the loosest) (remove podSecurity or set it to restricted, and make the pods meet it)',
    ],
    [
      'privileged',
      service,
      'podSecurity: privileged in .github/vcluster-preview.yml is looser than this service allows (baseline at the loosest) (remove podSecurity or set it to baseline or restricted, and make the pods meet it)',
    ],
  ])('refuses %s under %j', (asked, policy, message) => {
    expect(() => podSecurityLevel(asked, policy)).toThrow(BadConfigError);
    expect(() => podSecurityLevel(asked, policy)).toThrow(message);
  });
});
