import type { IncomingMessage, Server, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * Puts `handler` in front of every `request` listener of `server` (Probot's webhook middleware and
 * the request size guard among them): what it takes, they never see; the rest goes on to them.
 */
export function putInFront(server: Server, handler: Handler): void {
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handler(req, res).then(
      (taken) => {
        if (!taken) for (const listener of listeners) listener(req, res);
      },
      () => {
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
}
