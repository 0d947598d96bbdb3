import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PreviewQueue } from '../queue/preview-queue.ts';
import type { InstallationLimiter } from '../rate-limit/installation-limiter.ts';
import { redisDeliveryLog } from '../webhook-deliveries.ts';
import { type ActionsClaims, unauthorized } from './actions-claims.ts';
import { ApiError } from './api-error.ts';
import type { VerifyToken } from './oidc-verifier.ts';
import { previewKubeconfig } from './preview-kubeconfig.ts';
import { parsePreviewRequest } from './preview-request.ts';
import { type PreviewHosts, readPreviewStatus } from './read-preview-status.ts';
import { type RequestPreviewDeps, requestPreview } from './request-preview.ts';

/**
 * The service API's routes, as one Probot Server handler (Probot hands every request it did not
 * take to the handlers added with `addHandler`; one answering `true` took it):
 *
 * - `POST /api/v1/previews` → 202 `{ jobId, desired, statusUrl }` (200 without `jobId` when nothing
 *   was enqueued: a skip, a fork commit awaiting approval).
 * - `GET /api/v1/previews/{owner}/{repo}/{pr}[?job=<jobId>]` → `{ state, url?, sha?, … }`.
 * - `GET /api/v1/previews/{owner}/{repo}/{pr}/kubeconfig[?expiration=<seconds>]` → `{ kubeconfig,
 *   token, expiresAt, serviceAccount, namespace }`: a short-lived kubeconfig of the virtual cluster.
 *
 * Every failure is JSON `{ error, hint }`.
 */

export const API_PREFIX = '/api/v1/';
const PREVIEWS = '/api/v1/previews';
const MAX_BODY = 64 * 1024;

export interface ApiHandlerDeps extends RequestPreviewDeps {
  verify: VerifyToken;
  hosts?: PreviewHosts;
  log: Logger;
  /** How long a request waits for Redis to be connected before answering 503; default 2000 ms. */
  redisTimeoutMs?: number;
  /** Calls per minute per installation (the token's repository owner: one installation per account). */
  limiter?: InstallationLimiter;
}

const send = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
};

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) {
      throw new ApiError(
        413,
        `the request body is larger than ${MAX_BODY} bytes`,
        'send only the JSON fields',
      );
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(
      400,
      text.trim() === '' ? 'invalid request: the body is empty' : 'invalid request: the body is not JSON',
      'send JSON like {"pullRequest": 12, "action": "up"} with content-type: application/json',
    );
  }
}

const bearerOf = (request: IncomingMessage): string => {
  const header = request.headers.authorization;
  if (!header) throw unauthorized('no Authorization header (expected `Bearer <GitHub Actions OIDC token>`)');
  const match = /^bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) throw unauthorized('the Authorization header is not `Bearer <token>`');
  return match[1];
};

const REDIS_DOWN = new ApiError(
  503,
  'the service cannot reach its queue (Redis) right now',
  'nothing was changed; run the workflow again in a minute, and tell the service operator if it persists',
);

/** Redis down must answer 503 now, not hang: BullMQ's client queues commands until it reconnects. */
async function ensureRedis(queue: PreviewQueue, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    const client = await Promise.race([queue.queue.getBackend().client.catch(() => undefined), timeout]);
    if (client?.status !== 'ready') throw REDIS_DOWN;
  } finally {
    clearTimeout(timer);
  }
}

const looksLikeRedisDown = (error: unknown) =>
  error instanceof Error &&
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection is closed|Stream isn't writeable|MaxRetriesPerRequest/i.test(
    error.message,
  );

const statusUrl = (repo: string, pr: number, jobId?: string) =>
  `${PREVIEWS}/${repo}/${pr}${jobId ? `?job=${encodeURIComponent(jobId)}` : ''}`;

export function createApiHandler(deps: ApiHandlerDeps) {
  const redisTimeoutMs = deps.redisTimeoutMs ?? 2000;

  const authenticate = (request: IncomingMessage): Promise<ActionsClaims> => deps.verify(bearerOf(request));

  /** Counts a call against its installation's calls of the minute (after Redis answered: it counts there). */
  const limit = async (claims: ActionsClaims): Promise<void> => {
    const owner = claims.repository.split('/')[0]?.toLowerCase() ?? '';
    const { retryAfterMs } = (await deps.limiter?.take(owner)) ?? {};
    if (retryAfterMs !== undefined) {
      const seconds = Math.ceil(retryAfterMs / 1000);
      throw new ApiError(
        429,
        `the repositories of ${owner} called the service API more often than it allows in a minute`,
        `nothing was changed; try again in ${seconds} s (the Action's status polls count too)`,
        { 'retry-after': String(seconds) },
      );
    }
  };

  /**
   * A token changes something once: a captured one replayed cannot ask again, nor take a second
   * kubeconfig. Reads (status) may reuse it; a token lives minutes, its id is kept two hours.
   */
  const spentTokens = redisDeliveryLog(
    async () => (await deps.queue.queue.getBackend().client) as unknown as Redis,
    deps.queue.queue.toKey('api-tokens'),
    2 * 3600,
  );
  /** Runs `work` once per token and use; a failed run gives the token back, so a retry of it works. */
  async function once<T>(
    claims: ActionsClaims,
    use: 'request' | 'kubeconfig',
    work: () => Promise<T>,
  ): Promise<T> {
    const key = `${claims.tokenId}:${use}`;
    if (!(await spentTokens.first(key))) throw replayed(claims, use);
    try {
      return await work();
    } catch (error) {
      await spentTokens.forget(key).catch(() => undefined);
      throw error;
    }
  }
  const replayed = (claims: ActionsClaims, use: 'request' | 'kubeconfig') =>
    unauthorized(
      `this token (jti ${claims.tokenId}) was used for a ${use === 'request' ? 'preview request' : 'kubeconfig'} already`,
      'request a fresh token for each call that changes something: `core.getIDToken(audience)` right before it',
    );

  async function post(request: IncomingMessage, requestId: string, log: Logger) {
    const claims = await authenticate(request);
    const body = parsePreviewRequest(await readJson(request));
    await ensureRedis(deps.queue, redisTimeoutMs);
    await limit(claims);
    const result = await once(claims, 'request', () =>
      requestPreview(deps, {
        claims,
        request: body,
        requestId,
        log: log.child({ actor: claims.actor, run: claims.runId }),
      }),
    );
    return {
      status: result.jobId ? 202 : 200,
      body: {
        ...(result.jobId ? { jobId: result.jobId } : {}),
        desired: result.desired,
        statusUrl: statusUrl(result.repo, result.pr, result.jobId),
      },
    };
  }

  /** The token's claims, when they are of the repository the path names (a workflow reads its own only). */
  async function authenticateFor(request: IncomingMessage, match: RegExpExecArray): Promise<ActionsClaims> {
    const [, owner = '', name = ''] = match;
    const repo = `${decodeURIComponent(owner)}/${decodeURIComponent(name)}`;
    const claims = await authenticate(request);
    if (claims.repository.toLowerCase() !== repo.toLowerCase()) {
      throw new ApiError(
        403,
        `the token is for ${claims.repository}, not ${repo}`,
        'a workflow can read the previews of its own repository only; use the statusUrl POST answered with',
      );
    }
    return claims;
  }

  async function get(request: IncomingMessage, url: URL, match: RegExpExecArray) {
    const prText = match[3] ?? '';
    const claims = await authenticateFor(request, match);
    await ensureRedis(deps.queue, redisTimeoutMs);
    await limit(claims);
    const jobId = url.searchParams.get('job') ?? undefined;
    const status = await readPreviewStatus(deps, {
      repo: claims.repository,
      pr: Number(prText),
      ...(jobId ? { jobId } : {}),
    });
    return { status: 200, body: status };
  }

  async function kubeconfig(request: IncomingMessage, url: URL, match: RegExpExecArray, log: Logger) {
    const claims = await authenticateFor(request, match);
    const pr = Number(match[3]);
    await ensureRedis(deps.queue, redisTimeoutMs);
    await limit(claims);
    const answer = await once(claims, 'kubeconfig', () =>
      previewKubeconfig(deps, {
        claims,
        repo: claims.repository,
        pr,
        expiration: url.searchParams.get('expiration') ?? undefined,
      }),
    );
    // Who took a credential, and until when; never the token itself.
    log.info(
      { repo: claims.repository, pr, actor: claims.actor, run: claims.runId, expiresAt: answer.expiresAt },
      'preview kubeconfig issued',
    );
    return { status: 200, body: answer };
  }

  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(API_PREFIX)) return false;
    const requestId = randomUUID();
    const log = deps.log.child({ requestId, method: request.method, path: url.pathname });
    try {
      const previewPath = /^\/api\/v1\/previews\/([^/]+)\/([^/]+)\/([1-9]\d{0,9})$/.exec(url.pathname);
      const kubeconfigPath = /^\/api\/v1\/previews\/([^/]+)\/([^/]+)\/([1-9]\d{0,9})\/kubeconfig$/.exec(
        url.pathname,
      );
      let answer: { status: number; body: unknown };
      if (url.pathname === PREVIEWS && request.method === 'POST')
        answer = await post(request, requestId, log);
      else if (previewPath && request.method === 'GET') answer = await get(request, url, previewPath);
      else if (kubeconfigPath && request.method === 'GET')
        answer = await kubeconfig(request, url, kubeconfigPath, log);
      else if (url.pathname === PREVIEWS || previewPath || kubeconfigPath) {
        send(
          response,
          405,
          {
            error: `${request.method} is not allowed on ${url.pathname}`,
            hint: 'use POST to ask for a preview, GET to read one',
          },
          { allow: url.pathname === PREVIEWS ? 'POST' : 'GET' },
        );
        return true;
      } else {
        throw new ApiError(
          404,
          `no such API route: ${url.pathname}`,
          'the routes are POST /api/v1/previews, GET /api/v1/previews/{owner}/{repo}/{pull request} and GET /api/v1/previews/{owner}/{repo}/{pull request}/kubeconfig',
        );
      }
      send(response, answer.status, answer.body);
      log.info({ status: answer.status }, 'API request answered');
    } catch (caught) {
      const error = caught instanceof ApiError ? caught : looksLikeRedisDown(caught) ? REDIS_DOWN : undefined;
      if (error) {
        log.info({ status: error.status, error: error.message }, 'API request refused');
        send(response, error.status, error, error.headers);
      } else {
        log.error({ err: caught }, 'API request failed');
        send(response, 500, {
          error: 'the service failed to handle the request',
          hint: `this is on the service side; its log has the details under requestId ${requestId}`,
        });
      }
    }
    return true;
  };
}
