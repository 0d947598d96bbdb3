import { ApiError } from './api-error.ts';

/**
 * The claims of a GitHub Actions OIDC token that the API relies on, checked after the signature:
 * the issuer and audience it was made for, that it is still valid, and the repository whose workflow
 * asked for it. The repository comes from here only, never from a request body.
 */

export interface ActionsClaims {
  /** `owner/name` of the repository whose workflow run holds the token. */
  repository: string;
  /** The token's own id (`jti`): a token changes something once. */
  tokenId: string;
  actor?: string;
  sha?: string;
  ref?: string;
  eventName?: string;
  runId?: string;
  runAttempt?: string;
}

export interface ExpectedClaims {
  issuer: string;
  audience: string;
  /** Seconds since the epoch. */
  now: number;
  /** Clock skew allowed between GitHub and this service, in seconds; default 60. */
  leeway?: number;
}

const HINT_TOKEN =
  'call the API from a GitHub Actions workflow with `permissions: id-token: write`, with a token from `core.getIDToken(audience)`';

/** A 401: the token is not one the API accepts, and why. */
export const unauthorized = (why: string, hint = HINT_TOKEN) =>
  new ApiError(401, `the token was refused: ${why}`, hint);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

export function checkActionsClaims(
  payload: Record<string, unknown>,
  expected: ExpectedClaims,
): ActionsClaims {
  const leeway = expected.leeway ?? 60;
  if (payload.iss !== expected.issuer) {
    throw unauthorized(
      `wrong issuer ${JSON.stringify(payload.iss ?? null)} (expected ${expected.issuer})`,
      'only GitHub Actions OIDC tokens of the GitHub this service serves are accepted (OIDC_ISSUER)',
    );
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(expected.audience)) {
    throw unauthorized(
      `wrong audience ${JSON.stringify(payload.aud ?? null)} (expected ${expected.audience})`,
      `request the token for the service's audience: \`core.getIDToken('${expected.audience}')\`, the Action's \`audience\` input`,
    );
  }
  if (typeof payload.exp !== 'number') throw unauthorized('it has no expiry (exp)');
  if (payload.exp + leeway <= expected.now) {
    throw unauthorized(
      `expired at ${new Date(payload.exp * 1000).toISOString()}`,
      'request a fresh token right before calling the API (GitHub Actions tokens last minutes)',
    );
  }
  if (typeof payload.nbf === 'number' && payload.nbf - leeway > expected.now) {
    throw unauthorized(`not valid before ${new Date(payload.nbf * 1000).toISOString()}`);
  }
  const repository = text(payload.repository);
  if (!repository || !/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(repository)) {
    throw unauthorized('it names no repository (the `repository` claim of a GitHub Actions token)');
  }
  const tokenId = text(payload.jti);
  if (!tokenId) throw unauthorized('it has no token id (jti)');
  const optional = {
    actor: text(payload.actor),
    sha: text(payload.sha),
    ref: text(payload.ref),
    eventName: text(payload.event_name),
    runId: text(payload.run_id),
    runAttempt: text(payload.run_attempt),
  };
  return {
    repository,
    tokenId,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}
