import { describe, expect, it } from 'vitest';
import { parseMetricsText, requestsByNamespace } from './traffic-metrics.ts';

const A = 'vcluster-pr-1-shop';
const B = 'vcluster-pr-1-shop-x';
// As previewName escapes them; Traefik spells both `preview-pr-2-a-b-c`.
const C = 'preview-pr-2-a--b-c';
const D = 'preview-pr-2-a-b--c';

describe('parseMetricsText', () => {
  it('reads names, labels (escapes included) and values, and skips comments and junk', () => {
    const text = [
      '# HELP traefik_service_requests_total How many HTTP requests processed on a service.',
      '# TYPE traefik_service_requests_total counter',
      'traefik_service_requests_total{code="200",method="GET",protocol="http",service="a-b-80@kubernetes"} 3',
      'up 1 1700000000000',
      'odd{path="/x\\"y}",note="a\\\\b"} 2.5',
      'not a sample line',
      'nan_value{} NaN',
      '',
    ].join('\n');
    expect(parseMetricsText(text)).toEqual([
      {
        name: 'traefik_service_requests_total',
        labels: { code: '200', method: 'GET', protocol: 'http', service: 'a-b-80@kubernetes' },
        value: 3,
      },
      { name: 'up', labels: {}, value: 1 },
      { name: 'odd', labels: { path: '/x"y}', note: 'a\\b' }, value: 2.5 },
    ]);
  });
});

describe('requestsByNamespace', () => {
  const cases: [string, string, Record<string, number>][] = [
    [
      'Traefik: series of one service summed over codes and methods',
      [
        `traefik_service_requests_total{code="200",method="GET",protocol="http",service="${A}-web-80@kubernetes"} 4`,
        `traefik_service_requests_total{code="404",method="GET",protocol="http",service="${A}-web-80@kubernetes"} 1`,
        `traefik_service_requests_total{code="200",method="POST",protocol="http",service="${A}-api-8080@kubernetes"} 2`,
      ].join('\n'),
      { [A]: 7 },
    ],
    [
      'Traefik: a namespace that starts another is told apart by the longest match',
      [
        `traefik_service_requests_total{code="200",service="${A}-web-80@kubernetes"} 1`,
        `traefik_service_requests_total{code="200",service="${B}-web-80@kubernetes"} 5`,
      ].join('\n'),
      { [A]: 1, [B]: 5 },
    ],
    [
      "Traefik: its own services, other providers' and unknown namespaces count for nobody",
      [
        'traefik_service_requests_total{code="200",service="prometheus@internal"} 9',
        `traefik_service_requests_total{code="200",service="${A}-web-80@file"} 9`,
        'traefik_service_requests_total{code="200",service="default-web-80@kubernetes"} 9',
        `traefik_entrypoint_requests_total{code="200",entrypoint="web",service="${A}-web-80@kubernetes"} 9`,
      ].join('\n'),
      {},
    ],
    [
      'ingress-nginx: by its namespace label',
      [
        `nginx_ingress_controller_requests{namespace="${A}",ingress="preview",status="200"} 3`,
        `nginx_ingress_controller_requests{namespace="${A}",ingress="preview",status="502"} 1`,
        'nginx_ingress_controller_requests{namespace="other",ingress="x",status="200"} 8',
      ].join('\n'),
      { [A]: 4 },
    ],
    [
      'Traefik: a namespace with `--` as Traefik spells it; two spelt alike both get the count',
      'traefik_service_requests_total{code="200",service="preview-pr-2-a-b-c-web-80@kubernetes"} 2',
      { [C]: 2, [D]: 2 },
    ],
    ['no metrics at all', '', {}],
  ];
  it.each(cases)('%s', (_, text, expected) => {
    expect(Object.fromEntries(requestsByNamespace(text, [A, B, C, D]))).toEqual(expected);
  });
});
