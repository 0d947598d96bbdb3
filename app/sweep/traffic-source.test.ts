import { describe, expect, it } from 'vitest';
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
  const logged: string[] = [];
  const log = {
    warn: (_: object, message: string) => void logged.push(`warn ${message}`),
    info: (_: object, message: string) => void logged.push(`info ${message}`),
  };

  it('an unreachable endpoint is no traffic information, warned about once until it answers', async () => {
    let up = false;
    const source = metricsTrafficSource({
      url: 'http://metrics.invalid/metrics',
      log,
      fetch: async () => {
        if (!up) throw new TypeError('fetch failed');
        return new Response('nginx_ingress_controller_requests{namespace="ns-a",status="200"} 2\n');
      },
    });
    expect(await source(['ns-a'])).toBeUndefined();
    expect(await source(['ns-a'])).toBeUndefined();
    up = true;
    expect(Object.fromEntries((await source(['ns-a'])) ?? [])).toEqual({ 'ns-a': 2 });
    expect(logged.map((line) => line.split(' ')[0])).toEqual(['warn', 'info']);
  });

  it('an error status is no traffic information either', async () => {
    const source = metricsTrafficSource({
      url: 'http://metrics.invalid/metrics',
      log,
      fetch: async () => new Response('nope', { status: 503 }),
    });
    expect(await source(['ns-a'])).toBeUndefined();
  });
});
