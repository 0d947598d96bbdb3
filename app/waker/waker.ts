import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Logger } from 'pino';
import type { PreviewWakeAccess, WakerAddress } from '../../preview/index.ts';
import { readPreviewMetadata } from '../preview-metadata.ts';
import type { PreviewQueue } from '../queue/preview-queue.ts';
import { HeldRequests } from './held-requests.ts';
import { previewHostOf } from './preview-host.ts';

export interface WakerDeps {
  /** Preview host names end in it; requests for other hosts are not the waker's. */
  baseDomain: string;
  /** The service's own host names (PUBLIC_URL's), never the waker's even when under `baseDomain`. */
  ownHosts?: string[];
  access: Pick<PreviewWakeAccess, 'find' | 'readyBackend' | 'state'>;
  queue: Pick<PreviewQueue, 'enqueueIfIdle'>;
  /** How long a request is held while its preview wakes (PREVIEW_WAKE_TIMEOUT). */
  holdMs: number;
  /** How often a held request looks whether its preview is up (default 250 ms). */
  pollMs?: number;
  held?: HeldRequests;
  log: Logger;
}

/** Headers of one connection, not of the request: never passed on (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);

const endToEnd = (headers: IncomingHttpHeaders): IncomingHttpHeaders =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

/**
 * The waker: requests for a sleeping preview's host name reach it (its Ingress sends them here
 * while it sleeps, see preview/wake). It asks for the preview's resume once, holds the request until
 * a pod of the preview's app is ready, and then passes it to that pod, so the first visit is answered
 * with the real page. It serves only host names of existing previews and sends each only to its own
 * app: any other preview host gets 404, and a preview that does not wake in time 503.
 */
export function createWaker(deps: WakerDeps) {
  const held = deps.held ?? new HeldRequests({ perPreview: 50, total: 500, askEveryMs: 2000 });
  const pollMs = deps.pollMs ?? 250;
  const own = new Set((deps.ownHosts ?? []).map((name) => name.toLowerCase()));

  const askResume = async (target: NonNullable<Awaited<ReturnType<WakerDeps['access']['find']>>>) => {
    if (!held.shouldAsk(target.namespace)) return;
    const metadata = readPreviewMetadata(target);
    if (!metadata) return; // a working tree's preview (the CLI's): nobody's queue wakes it
    const jobId = await deps.queue.enqueueIfIdle({
      repo: metadata.repo,
      pr: metadata.pr,
      ...(metadata.installationId !== undefined ? { installationId: metadata.installationId } : {}),
      desired: { kind: 'resume' },
      reason: { kind: 'request', text: 'a visit to its URL woke it' },
    });
    if (jobId)
      deps.log.info({ repo: metadata.repo, pr: metadata.pr, jobId }, 'a request woke a sleeping preview');
  };

  /** A ready pod of the target's app once it is running again, or undefined when `holdMs` passed first. */
  const waitForBackend = async (
    target: NonNullable<Awaited<ReturnType<WakerDeps['access']['find']>>>,
    signal: AbortSignal,
  ): Promise<WakerAddress | undefined> => {
    const started = Date.now();
    const until = started + deps.holdMs;
    let state = target.state;
    let runningAfterMs: number | undefined;
    for (;;) {
      if (state === 'running') {
        runningAfterMs ??= Date.now() - started;
        const address = await deps.access.readyBackend(target);
        if (address) {
          // Where a wake's time goes: the control plane starting, then the app's pods.
          if (target.state !== 'running')
            deps.log.info(
              { namespace: target.namespace, heldMs: Date.now() - started, runningAfterMs },
              'a held request goes to the woken preview',
            );
          return address;
        }
      } else if (state === 'paused') {
        // Asked again now and then: the ask is refused while another job (the pause itself) runs.
        await askResume(target);
      }
      if (signal.aborted || Date.now() + pollMs > until) return undefined;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      state = await deps.access.state(target.namespace);
    }
  };

  return async function wakerHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const host = previewHostOf(req.headers.host, deps.baseDomain);
    if (!host || own.has(host)) return false;
    try {
      const target = await deps.access.find(host);
      if (!target) {
        answer(res, 404, `No preview is served at ${host}.`);
        return true;
      }
      const release = held.hold(target.namespace);
      if (!release) {
        answer(
          res,
          503,
          'This preview is waking up and has too many waiting visitors; retry in a few seconds.',
          5,
        );
        return true;
      }
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      const address = await waitForBackend(target, gone.signal).finally(release);
      if (gone.signal.aborted) return true;
      if (!address) {
        answer(res, 503, 'This preview was asleep and is waking up; retry in a few seconds.', 5);
        return true;
      }
      pass(req, res, address, deps.log);
    } catch (error) {
      deps.log.warn({ err: error, host }, 'the waker could not serve a request');
      if (!res.headersSent) answer(res, 502, 'The preview could not be reached; retry in a few seconds.');
      else res.destroy();
    }
    return true;
  };
}

/** Passes the request to the preview's pod as it came (its Host included) and its answer back. */
function pass(req: IncomingMessage, res: ServerResponse, to: WakerAddress, log: Logger): void {
  const upstream = httpRequest(
    {
      host: to.ip,
      port: to.port,
      method: req.method,
      path: req.url,
      headers: {
        ...endToEnd(req.headers),
        'x-forwarded-for': [req.headers['x-forwarded-for'], req.socket.remoteAddress]
          .filter(Boolean)
          .join(', '),
      },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    log.warn({ err: error, to }, 'the woken preview did not answer the held request');
    if (!res.headersSent) answer(res, 502, 'The preview woke but did not answer; retry in a few seconds.');
    else res.destroy();
  });
  res.once('close', () => upstream.destroy());
  req.pipe(upstream);
}

function answer(res: ServerResponse, status: number, text: string, retryAfterSeconds?: number): void {
  const page = `<!doctype html><meta charset="utf-8"><title>Preview</title><p>${text}</p>\n`;
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...(retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {}),
    })
    .end(page);
}
