import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsTrafficSource, sawRequests } from './traffic-source.ts';

describe('sawRequests', () => {
  const cases: [string, string | undefined, number | undefined, boolean][] = [
    ['no count (no request yet, or no metrics)', '4', undefined, false],
    ['the same count as last time', '4', 4, false],
    ['the count grew', '4', 6, true],
    ['first count seen', undefined, 3, true],
    ['first count seen is 0', undefined, 0, false],
    ['the controller restarted and served since', '40', 2, true],
    ['a hand-edited mark that is no number', 'lots', 2, true],
  ];
  it.each(cases)('%s', (_, previous, current, expected) => {
    expect(sawRequests(previous, current)).toBe(expected);
  });
});

describe('metricsTrafficSource', () => {
  /** A metrics endpoint on this machine answering `answer` (status, body) as it is when asked. */
  let answer = { status: 503, body: '' };
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((_, res) => res.writeHead(answer.status).end(answer.body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a failing endpoint is no traffic information, warned about once until it answers', async () => {
    const logged: string[] = [];
    const source = metricsTrafficSource({
      url,
      log: {
        warn: (_, message) => void logged.push(`warn ${message}`),
        info: (_, message) => void logged.push(`info ${message}`),
      },
    });
    answer = { status: 503, body: 'down' };
    expect(await source(['ns-a'])).toBeUndefined();
    expect(await source(['ns-a'])).toBeUndefined();
    answer = { status: 200, body: 'nginx_ingress_controller_requests{namespace="ns-a",status="200"} 2\n' };
    expect(Object.fromEntries((await source(['ns-a'])) ?? [])).toEqual({ 'ns-a': 2 });
    expect(logged.map((line) => line.split(' ')[0])).toEqual(['warn', 'info']);
  });

  it('an endpoint nobody listens on is no traffic information either', async () => {
    const source = metricsTrafficSource({ url: 'http://127.0.0.1:9/metrics', log: { warn() {}, info() {} } });
    expect(await source(['ns-a'])).toBeUndefined();
  });
});
