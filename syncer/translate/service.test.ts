import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TranslateContext } from './context.ts';
import {
  needsEndpointsSync,
  serviceClusterIPMismatch,
  serviceNodePortsToVirtual,
  serviceRefusal,
  serviceStatusToVirtual,
  serviceToHost,
  serviceTypeChange,
  serviceUpdateToHost,
} from './service.ts';

const ctx: TranslateContext = {
  vclusterName: 'pr-12',
  hostNamespace: 'preview-pr-12',
  allowedServiceTypes: ['NodePort', 'LoadBalancer'],
};
// what a syncer without `--allow-service-types` holds services to
const closed: TranslateContext = { vclusterName: 'pr-12', hostNamespace: 'preview-pr-12' };

function virtualService(spec: V1Service['spec'] = {}): V1Service {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'svc-uid', labels: { app: 'web' } },
    spec: {
      type: 'NodePort',
      selector: { app: 'web' },
      clusterIP: '10.0.0.10',
      clusterIPs: ['10.0.0.10'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      externalIPs: ['1.2.3.4'],
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }],
      sessionAffinity: 'None',
      ...spec,
    },
  };
}

describe('serviceToHost', () => {
  it('translates name and selector and leaves allocation to the host', () => {
    const vSvc = virtualService();
    const before = structuredClone(vSvc);
    const host = serviceToHost(vSvc, ctx);
    expect(vSvc).toStrictEqual(before);
    expect(host.metadata?.name).toBe('web-x-shop-x-pr-12');
    expect(host.metadata?.namespace).toBe('preview-pr-12');
    expect(host.metadata?.annotations?.['vcluster.loft.sh/object-kind']).toBe('/v1, Kind=Service');
    expect(host.spec).toStrictEqual({
      type: 'NodePort',
      selector: { app: 'web', 'vcluster.loft.sh/managed-by': 'pr-12', 'vcluster.loft.sh/namespace': 'shop' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      sessionAffinity: 'None',
    });
  });

  it.each<{ name: string; spec: V1Service['spec']; clusterIP?: string; selector?: unknown }>([
    {
      name: 'headless keeps None',
      spec: { clusterIP: 'None', type: 'ClusterIP' },
      clusterIP: 'None',
      selector: expect.anything(),
    },
    {
      name: 'selector-less stays selector-less',
      spec: { selector: undefined },
      clusterIP: undefined,
      selector: undefined,
    },
    {
      name: 'empty selector is no selector',
      spec: { selector: {} },
      clusterIP: undefined,
      selector: undefined,
    },
  ])('$name', ({ spec, clusterIP, selector }) => {
    const host = serviceToHost(virtualService(spec), ctx);
    expect(host.spec?.clusterIP).toBe(clusterIP);
    expect(host.spec?.selector).toEqual(selector);
  });
});

describe('service types on the host', () => {
  const lb = virtualService({
    type: 'LoadBalancer',
    externalTrafficPolicy: 'Local',
    healthCheckNodePort: 32000,
    loadBalancerIP: '203.0.113.9',
    loadBalancerSourceRanges: ['0.0.0.0/0'],
    loadBalancerClass: 'example.com/lb',
    allocateLoadBalancerNodePorts: true,
  });

  it.each<{ name: string; svc: V1Service; context: TranslateContext; type: string | undefined }>([
    {
      name: 'ClusterIP always',
      svc: virtualService({ type: 'ClusterIP' }),
      context: closed,
      type: 'ClusterIP',
    },
    {
      name: 'headless always',
      svc: virtualService({ type: 'ClusterIP', clusterIP: 'None' }),
      context: closed,
      type: 'ClusterIP',
    },
    { name: 'NodePort by default → ClusterIP', svc: virtualService(), context: closed, type: 'ClusterIP' },
    { name: 'LoadBalancer by default → ClusterIP', svc: lb, context: closed, type: 'ClusterIP' },
    {
      name: 'LoadBalancer with only NodePort allowed → ClusterIP',
      svc: lb,
      context: { ...closed, allowedServiceTypes: ['NodePort'] },
      type: 'ClusterIP',
    },
    {
      name: 'NodePort when allowed',
      svc: virtualService(),
      context: { ...closed, allowedServiceTypes: ['NodePort'] },
      type: 'NodePort',
    },
    { name: 'LoadBalancer when allowed', svc: lb, context: ctx, type: 'LoadBalancer' },
  ])('$name', ({ svc, context, type }) => {
    const host = serviceToHost(svc, context);
    expect(host.spec?.type).toBe(type);
    // node ports are the host's to allocate in every case
    expect(host.spec?.ports?.every((p) => p.nodePort === undefined)).toBe(true);
    expect(!!serviceTypeChange(svc, context)).toBe(type !== svc.spec?.type);
  });

  it('a service synced as ClusterIP carries nothing of a load balancer', () => {
    expect(serviceToHost(lb, closed).spec).toStrictEqual({
      type: 'ClusterIP',
      selector: { app: 'web', 'vcluster.loft.sh/managed-by': 'pr-12', 'vcluster.loft.sh/namespace': 'shop' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      sessionAffinity: 'None',
    });
  });

  it('says what was changed and why', () => {
    expect(serviceTypeChange(lb, closed)).toBe(
      'Service type LoadBalancer is not allowed on the host cluster (only ClusterIP is allowed by the operator): ' +
        'synced as ClusterIP, without node ports or a load balancer. It is reachable inside the preview and ' +
        'through its ingress; ask the operator to allow the type if it must be exposed directly.',
    );
    expect(serviceTypeChange(lb, { ...closed, allowedServiceTypes: ['NodePort'] })).toContain(
      '(only ClusterIP, NodePort are allowed by the operator)',
    );
  });

  it('an update to a type the operator does not allow stays ClusterIP on the host', () => {
    const host = serviceToHost(virtualService({ type: 'ClusterIP' }), closed);
    expect(serviceUpdateToHost(lb, host, closed)).toBeUndefined();
    const allowed = serviceToHost(virtualService(), ctx);
    expect(serviceUpdateToHost(virtualService(), allowed, closed)?.spec).toStrictEqual({ type: 'ClusterIP' });
  });
});

describe('serviceRefusal', () => {
  it('refuses ExternalName and says why', () => {
    const svc = virtualService({
      type: 'ExternalName',
      externalName: 'kubernetes.default.svc.cluster.local',
    });
    expect(serviceRefusal(svc)).toBe(
      'Service of type ExternalName (kubernetes.default.svc.cluster.local) is not synced to the host cluster: ' +
        'previews may not create DNS aliases in the shared cluster. Inside the preview the name still resolves; ' +
        'pods that need the outside address should use it directly, or use a selector-less Service with ' +
        'Endpoints of your own pods.',
    );
  });

  it.each(['ClusterIP', 'NodePort', 'LoadBalancer', undefined])('lets %s through', (type) => {
    expect(serviceRefusal(virtualService({ type }))).toBeUndefined();
  });

  it('never carries an external name to the host', () => {
    expect(
      serviceToHost(virtualService({ externalName: 'evil.example.com' }), ctx).spec?.externalName,
    ).toBeUndefined();
  });
});

describe('serviceUpdateToHost', () => {
  const base = virtualService();
  // what the host API server returns: its own IP and node port
  const host = serviceToHost(base, ctx);
  host.spec = {
    ...host.spec,
    clusterIP: '10.96.1.1',
    clusterIPs: ['10.96.1.1'],
    ports: [{ ...host.spec!.ports![0]!, nodePort: 31999 }],
  };

  it.each<{ name: string; change: (s: V1Service) => void; expected: unknown }>([
    { name: 'nothing changed (node ports differ by design)', change: () => {}, expected: undefined },
    {
      name: 'port added',
      change: (s) => {
        s.spec!.ports!.push({ name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' });
      },
      expected: {
        spec: {
          ports: [
            { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
            { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' },
          ],
        },
      },
    },
    {
      name: 'selector changed',
      change: (s) => {
        s.spec!.selector = { app: 'web-v2' };
      },
      expected: {
        spec: {
          selector: {
            app: 'web-v2',
            'vcluster.loft.sh/managed-by': 'pr-12',
            'vcluster.loft.sh/namespace': 'shop',
          },
        },
      },
    },
    {
      name: 'selector removed',
      change: (s) => {
        delete s.spec!.selector;
      },
      expected: { spec: { selector: null } },
    },
    {
      name: 'type and affinity changed',
      change: (s) => {
        s.spec!.type = 'LoadBalancer';
        s.spec!.sessionAffinity = 'ClientIP';
      },
      expected: { spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP' } },
    },
    {
      name: 'label added',
      change: (s) => {
        s.metadata!.labels = { app: 'web', tier: 'front' };
      },
      expected: {
        metadata: {
          labels: { tier: 'front' },
          annotations: { 'vcluster.loft.sh/managed-labels': 'app\ntier' },
        },
      },
    },
  ])('$name', ({ change, expected }) => {
    const vSvc = structuredClone(base);
    change(vSvc);
    expect(serviceUpdateToHost(vSvc, host, ctx)).toStrictEqual(expected);
  });
});

describe('serviceStatusToVirtual', () => {
  const lb = { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } };
  it.each<{ name: string; host: V1Service; virtual: V1Service; expected: unknown }>([
    {
      name: 'host got an address',
      host: { status: lb },
      virtual: { status: { loadBalancer: {} } },
      expected: lb,
    },
    { name: 'already shown', host: { status: lb }, virtual: { status: lb }, expected: undefined },
    { name: 'both empty', host: { status: { loadBalancer: {} } }, virtual: {}, expected: undefined },
    {
      name: 'address gone',
      host: { status: { loadBalancer: {} } },
      virtual: { status: lb },
      expected: { loadBalancer: {} },
    },
  ])('$name', ({ host, virtual, expected }) => {
    expect(serviceStatusToVirtual(host, virtual)).toStrictEqual(expected);
  });
});

describe('serviceClusterIPMismatch', () => {
  it.each([
    { host: '10.96.1.1', virtual: '10.96.1.1', expected: false },
    { host: '10.96.1.1', virtual: '10.0.0.10', expected: true },
    { host: 'None', virtual: 'None', expected: false },
    { host: undefined, virtual: '10.0.0.10', expected: false },
  ])('host $host, virtual $virtual → $expected', ({ host, virtual, expected }) => {
    expect(serviceClusterIPMismatch({ spec: { clusterIP: host } }, { spec: { clusterIP: virtual } })).toBe(
      expected,
    );
  });
});

describe('serviceNodePortsToVirtual', () => {
  const port = { name: 'http', port: 80, protocol: 'TCP' };
  it.each<{ name: string; host: V1Service; virtual: V1Service; expected: unknown }>([
    {
      name: 'host allocated another node port',
      host: { spec: { type: 'NodePort', ports: [{ ...port, nodePort: 31999 }] } },
      virtual: { spec: { type: 'NodePort', ports: [{ ...port, nodePort: 30080 }] } },
      expected: [{ ...port, nodePort: 31999 }],
    },
    {
      name: 'same',
      host: { spec: { type: 'NodePort', ports: [{ ...port, nodePort: 31999 }] } },
      virtual: { spec: { type: 'NodePort', ports: [{ ...port, nodePort: 31999 }] } },
      expected: undefined,
    },
    {
      name: 'ports differ otherwise (update pending)',
      host: { spec: { type: 'NodePort', ports: [{ ...port, nodePort: 31999 }] } },
      virtual: { spec: { type: 'NodePort', ports: [{ ...port, port: 81, nodePort: 30080 }] } },
      expected: undefined,
    },
  ])('$name', ({ host, virtual, expected }) => {
    expect(serviceNodePortsToVirtual(host, virtual)).toStrictEqual(expected);
  });
});

describe('needsEndpointsSync', () => {
  it.each<{ spec: V1Service['spec']; expected: boolean }>([
    { spec: { selector: { app: 'web' } }, expected: false },
    { spec: {}, expected: true },
    { spec: { selector: {} }, expected: true },
    { spec: { clusterIP: 'None' }, expected: true },
    { spec: { type: 'ExternalName', externalName: 'db.example.com' }, expected: false },
  ])('$spec → $expected', ({ spec, expected }) => {
    expect(needsEndpointsSync({ spec })).toBe(expected);
  });
});
