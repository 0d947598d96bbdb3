import type { IncomingMessage, ServerResponse } from 'node:http';

/** A readiness check: resolves when the dependency answers, rejects with why not. */
export type ReadinessCheck = () => Promise<void>;

/**
 * `/healthz` (the process serves requests: liveness) and `/readyz` (every dependency answers:
 * readiness, e.g. Redis), as Kubernetes probes them. A Probot server handler: answers those two
 * paths and passes on every other request. `/readyz` says which check failed and why, in text, as
 * kube-apiserver's own `/readyz?verbose` does.
 */
export function healthHandler(checks: Record<string, ReadinessCheck>, timeoutMs = 3000) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = req.url?.split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return true;
    }
    if (path !== '/readyz') return false;
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs);
          return { name, ok: true, why: '' };
        } catch (error) {
          return { name, ok: false, why: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const ready = results.every((result) => result.ok);
    const body = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.why}`)).join('\n');
    res
      .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
      .end(`${body}${body ? '\n' : ''}${ready ? 'ready' : 'not ready'}\n`);
    return true;
  };
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
