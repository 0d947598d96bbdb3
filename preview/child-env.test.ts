import { describe, expect, it } from 'vitest';
import { childEnv } from './child-env.ts';

describe('childEnv', () => {
  it('passes PATH, a home of its own and what the caller adds; never the service’s secrets', () => {
    const parent = {
      PATH: '/opt/bin:/usr/bin',
      LANG: 'C.UTF-8',
      PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----',
      WEBHOOK_SECRET: 's3cret',
      REDIS_URL: 'redis://:password@redis:6379',
      KUBECONFIG: '/etc/host/kubeconfig',
      GITHUB_TOKEN: 'ghs_x',
    };
    expect(childEnv('/tmp/work', { HELM_CACHE_HOME: '/tmp/work/cache' }, parent)).toStrictEqual({
      PATH: '/opt/bin:/usr/bin',
      HOME: '/tmp/work',
      TMPDIR: '/tmp/work',
      LANG: 'C.UTF-8',
      HELM_CACHE_HOME: '/tmp/work/cache',
    });
  });

  it('has a PATH even when the parent has none', () => {
    expect(childEnv('/tmp/w', {}, {}).PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });
});
