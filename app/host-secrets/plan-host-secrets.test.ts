import { describe, expect, it } from 'vitest';
import { BadConfigError } from '../errors/bad-config-error.ts';
import { allowedHostSecrets, planHostSecrets } from './plan-host-secrets.ts';

const allowlist = {
  'acme/shop': ['db-creds'],
  'acme/*': ['shared'],
  '*': ['public-ca'],
  'other/shop': ['other-db'],
};

describe('allowedHostSecrets', () => {
  it.each([
    ['acme/shop', ['db-creds', 'public-ca', 'shared']],
    ['Acme/Shop', ['db-creds', 'public-ca', 'shared']],
    ['acme/blog', ['public-ca', 'shared']],
    ['other/shop', ['other-db', 'public-ca']],
    ['acme-corp/shop', ['public-ca']],
  ])('%s may have %j', (repo, names) => {
    expect([...allowedHostSecrets(allowlist, repo)].sort()).toEqual(names);
  });

  it('allows nothing without a setting', () => {
    expect(allowedHostSecrets({}, 'acme/shop').size).toBe(0);
  });
});

describe('planHostSecrets', () => {
  const db = { fromHostSecret: 'db-creds', keys: ['password'], namespace: 'default' };
  const shared = { fromHostSecret: 'shared', keys: ['a', 'b'], as: 'common', namespace: 'shop' };

  it.each([
    ['no secrets: in the config', undefined, false, { copies: [] }],
    ['an empty list', [], true, { copies: [] }],
    [
      'allowed secrets, renamed and into a namespace',
      [db, shared],
      false,
      {
        copies: [
          { from: 'db-creds', keys: ['password'], to: { namespace: 'default', name: 'db-creds' } },
          { from: 'shared', keys: ['a', 'b'], to: { namespace: 'shop', name: 'common' } },
        ],
      },
    ],
    [
      'a fork: none, and the comment says which and why',
      [db, shared],
      true,
      {
        copies: [],
        withheld: {
          names: ['db-creds', 'shared'],
          reason: 'this pull request comes from a fork, and host Secrets are never given to code from forks',
        },
      },
    ],
  ])('%s', (_name, secrets, isFork, plan) => {
    expect(planHostSecrets({ secrets, repo: 'acme/shop', isFork, allowlist })).toEqual(plan);
  });

  it.each([
    [
      'one name not allowed',
      'acme/blog',
      [db],
      "secrets: the host Secret db-creds is not allowed for acme/blog by the service's PREVIEW_HOST_SECRETS setting (allowed: public-ca, shared) (remove it from secrets:, or ask the service's operator to add it to PREVIEW_HOST_SECRETS for acme/blog)",
    ],
    [
      'two, with nothing allowed at all, also for a fork',
      'stranger/app',
      [db, { ...db, fromHostSecret: 'prod-db', namespace: 'x' }],
      "secrets: the host Secrets db-creds, prod-db are not allowed for stranger/app by the service's PREVIEW_HOST_SECRETS setting (allowed: public-ca) (remove them from secrets:, or ask the service's operator to add them to PREVIEW_HOST_SECRETS for stranger/app)",
    ],
  ])('refuses %s, naming the secret and the setting', (_name, repo, secrets, message) => {
    const plan = () => planHostSecrets({ secrets, repo, isFork: true, allowlist });
    expect(plan).toThrow(BadConfigError);
    expect(plan).toThrow(message);
  });
});
