import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { type BasicCredentials, hasBasicCredentials } from './basic-auth.ts';
import { type ReadStatusPageDeps, readStatusPage } from './read-status.ts';
import { renderPreviewPage, renderStatusPage } from './render.ts';

export interface StatusPageDeps extends ReadStatusPageDeps {
  /** The login (STATUS_PAGE_AUTH); without it the page is open (the embedded host on this machine). */
  auth?: BasicCredentials;
  log: Logger;
  now?: () => Date;
}

const PREVIEW_PATH = /^\/previews\/([^/]+)\/?$/;

const html = (
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
) => {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // Nothing but our own inline style: a line that slipped through escaping still could not run.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  response.end(body);
};

/**
 * The status page, as one Probot Server handler: `GET /` (every preview and the queue's counts) and
 * `GET /previews/<key>` (one preview's steps, last error and syncer lines), behind basic auth when
 * configured. Every other path is left to the other handlers.
 */
export function statusPageHandler(deps: StatusPageDeps) {
  const now = deps.now ?? (() => new Date());
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const previewPath = PREVIEW_PATH.exec(url.pathname);
    if (url.pathname !== '/' && !previewPath) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
      return true;
    }
    if (deps.auth && !hasBasicCredentials(request.headers.authorization, deps.auth)) {
      html(
        response,
        401,
        '<!doctype html><title>Login required</title><p>The vcluster-preview status page needs a user name and password (STATUS_PAGE_AUTH of the service).</p>\n',
        { 'www-authenticate': 'Basic realm="vcluster-preview", charset="UTF-8"' },
      );
      return true;
    }
    try {
      if (!previewPath) {
        html(response, 200, renderStatusPage(await readStatusPage(deps), now()));
        return true;
      }
      let key: string;
      try {
        key = decodeURIComponent(previewPath[1]!);
      } catch {
        key = previewPath[1]!;
      }
      const data = await readStatusPage(deps, key);
      html(response, data.preview ? 200 : 404, renderPreviewPage(data, key, now()));
    } catch (error) {
      deps.log.error({ err: error, path: url.pathname }, 'the status page failed');
      response
        .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        .end('the status page failed; the service log has the details\n');
    }
    return true;
  };
}
