import { describe, expect, it } from 'vitest';
import { DeployError } from '../../preview/deploy/index.ts';
import { RepoConfigError } from '../../preview/repo-config.ts';
import { BadConfigError } from '../errors/bad-config-error.ts';
import { asBadConfig } from './app-source.ts';

const ref = { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web' };

describe('asBadConfig: what a retry cannot fix becomes a BadConfigError', () => {
  it.each([
    [
      'a manifest the API server refuses as invalid (422)',
      new DeployError([{ ref, message: 'spec.ports: Required', status: 422 }]),
      true,
    ],
    [
      'an unknown kind (404 from discovery)',
      new DeployError([{ ref, message: 'unknown kind', status: 404 }]),
      true,
    ],
    [
      'an API server that is down (503)',
      new DeployError([{ ref, message: 'unavailable', status: 503 }]),
      false,
    ],
    [
      'a failure without a status (connection refused)',
      new DeployError([{ ref, message: 'ECONNREFUSED' }]),
      false,
    ],
    ['a network error', new Error('socket hang up'), false],
  ])('%s', (_what, error, bad) => {
    expect(asBadConfig(error) instanceof BadConfigError).toBe(bad);
  });

  it('keeps the config error text for the pull request', () => {
    const converted = asBadConfig(
      new RepoConfigError([{ line: 3, path: 'expose.port', message: 'expected a number' }]),
    );
    expect(converted).toBeInstanceOf(BadConfigError);
    expect((converted as Error).message).toContain(
      '.github/vcluster-preview.yml:3: expose.port: expected a number',
    );
  });
});
