import type { CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { eventToVirtual, eventUpdateToVirtual, isSyncedEventKind, virtualEventName } from './event.ts';

const hostEvent: CoreV1Event = {
  metadata: {
    name: 'web-0-x-shop-x-pr-12.17c2a3b4d5e6f7a8',
    namespace: 'preview-pr-12',
    uid: 'ev-uid',
    resourceVersion: '9',
  },
  involvedObject: {
    apiVersion: 'v1',
    kind: 'Pod',
    name: 'web-0-x-shop-x-pr-12',
    namespace: 'preview-pr-12',
    uid: 'host-pod-uid',
    resourceVersion: '100',
    fieldPath: 'spec.containers{app}',
  },
  reason: 'Pulled',
  message:
    'Successfully assigned preview-pr-12/web-0-x-shop-x-pr-12 to node-1; pod web-0-x-shop-x-pr-12 pulled',
  source: { component: 'kubelet', host: 'node-1' },
  count: 3,
  type: 'Normal',
  firstTimestamp: new Date('2024-05-01T10:00:00Z'),
  lastTimestamp: new Date('2024-05-01T10:05:00Z'),
  related: { kind: 'Node', name: 'node-1' },
  reportingComponent: 'kubelet',
  reportingInstance: 'node-1',
};

const involved = { namespace: 'shop', name: 'web-0', uid: 'virtual-pod-uid', resourceVersion: '55' };

describe('eventToVirtual', () => {
  it('points the event at the virtual pod and rewrites names', () => {
    const before = structuredClone(hostEvent);
    expect(eventToVirtual(hostEvent, involved)).toStrictEqual({
      metadata: { name: 'web-0.17c2a3b4d5e6f7a8', namespace: 'shop' },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        name: 'web-0',
        namespace: 'shop',
        uid: 'virtual-pod-uid',
        resourceVersion: '55',
        fieldPath: 'spec.containers{app}',
      },
      reason: 'Pulled',
      message: 'Successfully assigned shop/web-0 to node-1; pod web-0 pulled',
      source: { component: 'kubelet', host: 'node-1' },
      count: 3,
      type: 'Normal',
      firstTimestamp: new Date('2024-05-01T10:00:00Z'),
      lastTimestamp: new Date('2024-05-01T10:05:00Z'),
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
    });
    expect(hostEvent).toStrictEqual(before);
  });
});

describe('virtualEventName', () => {
  it.each([
    {
      host: 'web-0-x-shop-x-pr-12.17c2',
      object: 'web-0-x-shop-x-pr-12',
      virtual: 'web-0',
      expected: 'web-0.17c2',
    },
    { host: 'unrelated.17c2', object: 'web-0-x-shop-x-pr-12', virtual: 'web-0', expected: 'unrelated.17c2' },
    { host: 'x.1', object: '', virtual: 'web-0', expected: 'x.1' },
  ])('$host → $expected', ({ host, object, virtual, expected }) => {
    expect(virtualEventName(host, object, virtual)).toBe(expected);
  });
});

describe('isSyncedEventKind', () => {
  it.each([
    { apiVersion: 'v1', kind: 'Pod', expected: true },
    { apiVersion: 'v1', kind: 'Endpoints', expected: true },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', expected: true },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', expected: true },
    { apiVersion: 'v1', kind: 'Node', expected: false },
    { apiVersion: 'apps/v1', kind: 'Deployment', expected: false },
    { apiVersion: 'example.com/v1', kind: 'Pod', expected: false },
  ])('$apiVersion $kind → $expected', ({ apiVersion, kind, expected }) => {
    expect(isSyncedEventKind({ metadata: {}, involvedObject: { apiVersion, kind } })).toBe(expected);
  });
});

describe('eventUpdateToVirtual', () => {
  const current = eventToVirtual(hostEvent, involved);
  it.each<{ name: string; change: (e: CoreV1Event) => void; expected: unknown }>([
    { name: 'unchanged', change: () => {}, expected: undefined },
    {
      name: 'repeated',
      change: (e) => {
        e.count = 4;
        e.lastTimestamp = new Date('2024-05-01T10:06:00Z');
      },
      expected: { count: 4, lastTimestamp: new Date('2024-05-01T10:06:00Z') },
    },
  ])('$name', ({ change, expected }) => {
    const h = structuredClone(hostEvent);
    change(h);
    expect(eventUpdateToVirtual(h, current, involved)).toStrictEqual(expected);
  });
});
