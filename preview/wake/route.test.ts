import type { V1EndpointSlice, V1Ingress, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  ASLEEP_BACKENDS,
  appBackends,
  asleepIngress,
  awakeIngress,
  parseWakerAddress,
  readyEndpoint,
  WAKER_PORT,
  WAKER_SERVICE,
  wakerObjects,
} from './route.ts';

const ingress: V1Ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: {
    name: 'preview',
    namespace: 'vcluster-pr-1',
    labels: { 'app.kubernetes.io/managed-by': 'vcluster-preview' },
    annotations: { 'cert-manager.io/cluster-issuer': 'le' },
    resourceVersion: '12',
    managedFields: [{ manager: 'vcluster-preview' }],
  },
  spec: {
    ingressClassName: 'traefik',
    rules: [
      {
        host: 'pr-1-shop.preview.example.com',
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: 'web-x-default-x-pr-1', port: { number: 8080 } } },
            },
          ],
        },
      },
    ],
  },
  status: { loadBalancer: {} },
};

describe('asleepIngress and awakeIngress', () => {
  const asleep = asleepIngress(ingress);

  it('sends every path to the waker and keeps the app backends in an annotation', () => {
    expect(asleep.spec?.rules?.[0]?.http?.paths[0]?.backend).toEqual({
      service: { name: WAKER_SERVICE, port: { number: WAKER_PORT } },
    });
    expect(asleep.metadata?.annotations).toEqual({
      'cert-manager.io/cluster-issuer': 'le',
      [ASLEEP_BACKENDS]: JSON.stringify([{ service: 'web-x-default-x-pr-1', port: 8080 }]),
    });
    expect(asleep.spec?.rules?.[0]?.host).toBe('pr-1-shop.preview.example.com');
    expect(asleep.spec?.ingressClassName).toBe('traefik');
  });

  it('is fit for server-side apply: no resource version, managed fields or status', () => {
    expect(asleep.metadata).not.toHaveProperty('resourceVersion');
    expect(asleep.metadata).not.toHaveProperty('managedFields');
    expect(asleep).not.toHaveProperty('status');
  });

  it('still knows the app backend while asleep, and sleeping twice changes nothing', () => {
    expect(appBackends(asleep)).toEqual([{ service: 'web-x-default-x-pr-1', port: 8080 }]);
    expect(asleepIngress(asleep)).toBe(asleep);
  });

  it('puts back what was there on wake, and leaves an awake Ingress as it is', () => {
    const awake = awakeIngress(asleep);
    expect(awake.spec).toEqual(ingress.spec);
    expect(awake.metadata?.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'le' });
    expect(awakeIngress(ingress)).toBe(ingress);
  });

  it('reads no backend from an annotation that is not a list of backends', () => {
    const planted = {
      ...ingress,
      metadata: { ...ingress.metadata, annotations: { [ASLEEP_BACKENDS]: '{"service":"x"' } },
    };
    expect(appBackends(planted)).toEqual([]);
    const wrong = {
      ...ingress,
      metadata: { ...ingress.metadata, annotations: { [ASLEEP_BACKENDS]: '[{"service":"x","port":-1}]' } },
    };
    expect(appBackends(wrong)).toEqual([]);
  });
});

describe('wakerObjects', () => {
  it('a selector-less Service whose EndpointSlice is the waker address', () => {
    const [service, slice] = wakerObjects('vcluster-pr-1', { ip: '127.0.0.1', port: 3000 });
    expect(service.spec).not.toHaveProperty('selector');
    expect(service.spec?.ports?.[0]).toMatchObject({ port: WAKER_PORT, targetPort: 3000 });
    expect(slice.metadata?.labels?.['kubernetes.io/service-name']).toBe(WAKER_SERVICE);
    expect(slice.addressType).toBe('IPv4');
    expect(slice.endpoints).toEqual([{ addresses: ['127.0.0.1'], conditions: { ready: true } }]);
    expect(slice.ports).toEqual([{ name: 'http', port: 3000, protocol: 'TCP' }]);
    expect(wakerObjects('ns', { ip: 'fd00::1', port: 80 })[1].addressType).toBe('IPv6');
  });
});

describe('readyEndpoint', () => {
  const service: V1Service = {
    spec: {
      ports: [
        { name: 'metrics', port: 9090 },
        { name: 'http', port: 8080 },
      ],
    },
  };
  const slice = (endpoints: V1EndpointSlice['endpoints'], portName = 'http'): V1EndpointSlice => ({
    addressType: 'IPv4',
    endpoints,
    ports: [
      { name: 'metrics', port: 9091 },
      { name: portName, port: 3000 },
    ],
  });
  const cases: [string, V1EndpointSlice[], number, ReturnType<typeof readyEndpoint>][] = [
    [
      'a ready pod, on the target port of the named port',
      [slice([{ addresses: ['10.1.0.4'], conditions: { ready: true } }])],
      8080,
      { ip: '10.1.0.4', port: 3000 },
    ],
    ['ready unset means ready', [slice([{ addresses: ['10.1.0.4'] }])], 8080, { ip: '10.1.0.4', port: 3000 }],
    ['no slices yet', [], 8080, undefined],
    [
      'a pod not ready',
      [slice([{ addresses: ['10.1.0.4'], conditions: { ready: false } }])],
      8080,
      undefined,
    ],
    [
      'a pod terminating',
      [slice([{ addresses: ['10.1.0.4'], conditions: { terminating: true } }])],
      8080,
      undefined,
    ],
    [
      'the next ready pod',
      [slice([{ addresses: ['10.1.0.4'], conditions: { ready: false } }, { addresses: ['10.1.0.5'] }])],
      8080,
      { ip: '10.1.0.5', port: 3000 },
    ],
    ['a port the Service does not have', [slice([{ addresses: ['10.1.0.4'] }])], 1234, undefined],
    ['a slice without the port', [slice([{ addresses: ['10.1.0.4'] }], 'other')], 8080, undefined],
  ];
  it.each(cases)('%s', (_, slices, port, expected) => {
    expect(readyEndpoint(service, slices, port)).toEqual(expected);
  });
});

describe('parseWakerAddress', () => {
  it.each([
    ['127.0.0.1:3000', { ip: '127.0.0.1', port: 3000 }],
    [' 10.96.0.20:80 ', { ip: '10.96.0.20', port: 80 }],
    ['[fd00::20]:8080', { ip: 'fd00::20', port: 8080 }],
    ['waker.svc:80', undefined],
    ['10.0.0.1', undefined],
    ['10.0.0.300:80', undefined],
    ['10.0.0.1:0', undefined],
    ['10.0.0.1:70000', undefined],
  ])('%s', (text, expected) => {
    expect(parseWakerAddress(text)).toEqual(expected);
  });
});
