import { request } from 'node:http';

/**
 * GETs `url` as a browser on this machine would open it: the request goes to the ingress
 * controller at `ingressUrl` with the URL's host name in the Host header (what `curl --resolve`
 * does; fetch may not set Host).
 */
export function openThroughIngress(
  url: string,
  ingressUrl: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const ingress = new URL(ingressUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: ingress.hostname,
        port: ingress.port,
        path: `${target.pathname}${target.search}`,
        headers: { host: target.host },
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from ${ingressUrl} for ${url} in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}
