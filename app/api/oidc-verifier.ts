import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import { messageOf } from '../../preview/index.ts';
import { type ActionsClaims, checkActionsClaims, unauthorized } from './actions-claims.ts';
import { ApiError } from './api-error.ts';

/**
 * Verifies GitHub Actions OIDC tokens against the issuer's published keys (OpenID discovery, then
 * its JWKS, cached and refreshed by jose when a new key id shows up).
 */

export interface OidcVerifierOptions {
  /** `https://token.actions.githubusercontent.com`, or `<ghe>/_services/token`. */
  issuer: string;
  /** This installation's own `aud` (`API_AUDIENCE`); unset, every request is answered 503. */
  audience: string | undefined;
  log: Logger;
  /** Seconds since the epoch; default the clock. */
  now?: () => number;
}

export type VerifyToken = (token: string) => Promise<ActionsClaims>;

const unreachable = (issuer: string, why: string) =>
  new ApiError(
    503,
    `cannot check the token: the issuer's keys at ${issuer} could not be read (${why})`,
    'this is on the service side; try again in a minute, and tell its operator if it persists (OIDC_ISSUER)',
  );

// Without an audience of its own the service would take tokens made for any other service.
const noAudience = new ApiError(
  503,
  'the service API is not set up: this installation has no API_AUDIENCE',
  "its operator sets API_AUDIENCE to the service's URL, the Action's service-url (e.g. https://previews.example.com; the chart takes https://<ingress.host>)",
);

export function createOidcVerifier(options: OidcVerifierOptions): VerifyToken {
  const { issuer, audience, log } = options;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  /** The JWKS from the discovery document, looked up once (a failed lookup is tried again next time). */
  const jwks = () => {
    keys ??= (async () => {
      const response = await fetch(`${issuer}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) throw new Error(`openid-configuration answered ${response.status}`);
      const { jwks_uri: uri } = (await response.json()) as { jwks_uri?: unknown };
      if (typeof uri !== 'string') throw new Error('openid-configuration has no jwks_uri');
      return createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000 });
    })().catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
    return keys;
  };

  return async (token) => {
    if (audience === undefined) throw noAudience;
    let payload: Record<string, unknown>;
    try {
      payload = decodeJwt(token);
    } catch {
      throw unauthorized('it is not a JSON Web Token');
    }
    // Claims first, from the unverified payload: they say precisely what is wrong (wrong audience,
    // expired), and nothing is trusted until the signature below holds too.
    const claims = checkActionsClaims(payload, { issuer, audience, now: now() });
    let keySet: ReturnType<typeof createRemoteJWKSet>;
    try {
      keySet = await jwks();
    } catch (error) {
      log.error({ err: error, issuer }, 'cannot read the OIDC issuer configuration');
      throw unreachable(issuer, messageOf(error));
    }
    try {
      await jwtVerify(token, keySet, {
        issuer,
        audience,
        algorithms: ['RS256'],
        clockTolerance: 60,
        currentDate: new Date(now() * 1000),
      });
    } catch (error) {
      if (
        error instanceof errors.JWSSignatureVerificationFailed ||
        error instanceof errors.JWKSNoMatchingKey
      ) {
        throw unauthorized(`its signature is not from ${issuer}`);
      }
      if (error instanceof errors.JOSEAlgNotAllowed) throw unauthorized('it is not signed with RS256');
      if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
        log.error({ err: error, issuer }, 'cannot read the OIDC issuer keys');
        throw unreachable(issuer, messageOf(error));
      }
      throw unauthorized(messageOf(error));
    }
    return claims;
  };
}
