import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** The most a webhook delivery or an API call may send: GitHub's pull request and comment payloads are far smaller. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Refuses request bodies over `maxBytes` before any handler reads them: a declared length over the
 * limit is answered 413 at once, and a body without a declared length (chunked) 411, since it could
 * grow without bound (GitHub and the Action always declare it). Probot's webhook middleware comes
 * first among its handlers, so the guard sits in front of all of the server's `request` listeners.
 */
export function guardRequestSize(server: Server, maxBytes = MAX_REQUEST_BYTES): void {
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const length = req.headers['content-length'];
    if (length === undefined && req.headers['transfer-encoding'] !== undefined) {
      refuse(res, 411, 'send the body with a Content-Length');
      req.resume();
      return;
    }
    if (Number(length ?? 0) > maxBytes) {
      refuse(
        res,
        413,
        `the request body is larger than ${maxBytes} bytes; webhooks and API calls of vcluster-preview are much smaller`,
      );
      req.resume();
      return;
    }
    for (const listener of listeners) listener(req, res);
  });
}

function refuse(res: ServerResponse, status: number, error: string): void {
  res
    .writeHead(status, { 'content-type': 'application/json', connection: 'close' })
    .end(`${JSON.stringify({ error })}\n`);
}
