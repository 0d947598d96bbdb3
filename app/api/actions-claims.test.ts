import { describe, expect, it } from 'vitest';
import { checkActionsClaims } from './actions-claims.ts';
import { ApiError } from './api-error.ts';

const now = 1_750_000_000;
const expected = { issuer: 'https://token.actions.githubusercontent.com', audience: 'vcluster-preview', now };
const claims = {
  jti: 'b4f1c0de-0000-4000-8000-000000000001',
  iss: expected.issuer,
  aud: 'vcluster-preview',
  exp: now + 300,
  nbf: now - 10,
  iat: now - 10,
  repository: 'acme/shop',
  repository_owner: 'acme',
  actor: 'octocat',
  sha: 'a'.repeat(40),
  ref: 'refs/pull/12/merge',
  event_name: 'pull_request',
  run_id: '42',
  run_attempt: '1',
};

const refusal = (payload: Record<string, unknown>) => {
  try {
    checkActionsClaims(payload, expected);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the claims to be refused');
};

describe('checkActionsClaims', () => {
  it('takes the repository and the run from the token', () => {
    expect(checkActionsClaims(claims, expected)).toEqual({
      repository: 'acme/shop',
      tokenId: 'b4f1c0de-0000-4000-8000-000000000001',
      actor: 'octocat',
      sha: 'a'.repeat(40),
      ref: 'refs/pull/12/merge',
      eventName: 'pull_request',
      runId: '42',
      runAttempt: '1',
    });
    expect(checkActionsClaims({ ...claims, aud: ['other', 'vcluster-preview'] }, expected).repository).toBe(
      'acme/shop',
    );
  });

  it('refuses with 401 and says why: issuer, audience, expiry, repository, token id', () => {
    const wrongIssuer = refusal({ ...claims, iss: 'https://evil.example.com' });
    expect(wrongIssuer.status).toBe(401);
    expect(wrongIssuer.message).toMatch(/wrong issuer "https:\/\/evil\.example\.com"/);

    const wrongAudience = refusal({ ...claims, aud: 'sts.amazonaws.com' });
    expect(wrongAudience.message).toMatch(
      /wrong audience "sts\.amazonaws\.com" \(expected vcluster-preview\)/,
    );
    expect(wrongAudience.hint).toMatch(/getIDToken\('vcluster-preview'\)/);

    expect(refusal({ ...claims, exp: now - 120 }).message).toMatch(/expired at /);
    expect(refusal({ ...claims, exp: undefined }).message).toMatch(/no expiry/);
    expect(refusal({ ...claims, nbf: now + 600 }).message).toMatch(/not valid before/);
    expect(refusal({ ...claims, repository: undefined }).message).toMatch(/names no repository/);
    expect(refusal({ ...claims, repository: 'acme/shop/../x' }).message).toMatch(/names no repository/);
    // Without its id a token could not be told from its replay.
    expect(refusal({ ...claims, jti: undefined }).message).toMatch(/no token id \(jti\)/);
  });

  it('allows a minute of clock skew, no more', () => {
    expect(checkActionsClaims({ ...claims, exp: now - 30 }, expected).repository).toBe('acme/shop');
    expect(refusal({ ...claims, exp: now - 61 }).status).toBe(401);
  });
});
