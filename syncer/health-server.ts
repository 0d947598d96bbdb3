import { createServer, type Server } from 'node:http';
import type { Syncer } from './syncer.ts';

/** `/healthz` (the process answers), `/readyz` (every cache filled) and `/metrics` (Prometheus). */
export function startHealthServer(syncer: Syncer, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (path === '/readyz') {
      const ready = syncer.ready;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ok' : 'caches not synced');
    } else if (path === '/metrics') {
      syncer.metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': syncer.metrics.registry.contentType }).end(body),
        (error: Error) => res.writeHead(500).end(error.message),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
