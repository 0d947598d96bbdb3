import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ApplicationFunction } from 'probot';
import type { GitHubClient } from '../github/reporter.ts';
import type { PolicyDeps } from '../policy/judge-pull-request.ts';
import type { PreviewQueue } from '../queue/preview-queue.ts';
import { installationLimiter } from '../rate-limit/installation-limiter.ts';
import { createApiHandler } from './api-handler.ts';
import { createOidcVerifier } from './oidc-verifier.ts';
import type { PreviewHosts } from './read-preview-status.ts';

export interface PreviewApiDeps {
  queue: PreviewQueue;
  policy: PolicyDeps;
  /** `OIDC_ISSUER` and `API_AUDIENCE` of the service config. */
  issuer: string;
  audience: string | undefined;
  hosts?: PreviewHosts;
  /** Calls per minute per installation (`RATE_LIMIT_API_PER_MINUTE`); 0 for no limit. */
  callsPerMinute: number;
  log: Logger;
}

/**
 * The service API, loaded into the same Probot Server as the webhooks (`server.load`): its routes
 * are one more handler of that server, and it reaches GitHub with the same App credentials.
 */
export function createPreviewApi(deps: PreviewApiDeps): ApplicationFunction {
  return (app, { addHandler }) => {
    const log = deps.log.child({ name: 'api' });
    addHandler(
      createApiHandler({
        queue: deps.queue,
        policy: deps.policy,
        ...(deps.hosts ? { hosts: deps.hosts } : {}),
        verify: createOidcVerifier({ issuer: deps.issuer, audience: deps.audience, log }),
        limiter: installationLimiter(
          async () => (await deps.queue.queue.getBackend().client) as unknown as Redis,
          { keyPrefix: deps.queue.queue.toKey('rate:api'), perMinute: deps.callsPerMinute },
        ),
        github: {
          app: async () => (await app.auth()) as unknown as GitHubClient,
          installation: async (id) => (await app.auth(id)) as unknown as GitHubClient,
        },
        log,
      }),
    );
  };
}
