import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { notReadyReport } from './not-ready-report.ts';

const pending: V1Pod = {
  metadata: { name: 'pr-1-0' },
  spec: { containers: [] },
  status: {
    phase: 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'pod has unbound PVCs' },
    ],
  },
};
const crashing: V1Pod = {
  metadata: { name: 'pr-1-1' },
  spec: { containers: [], nodeName: 'n1' },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
    containerStatuses: [
      {
        name: 'syncer',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
      },
    ],
  },
};
const ready: V1Pod = {
  metadata: { name: 'pr-1-2' },
  spec: { containers: [], nodeName: 'n1' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
};
const event = (kind: string, name: string, reason: string, second: number): CoreV1Event => ({
  metadata: {},
  involvedObject: { kind, name },
  reason,
  message: `${reason} happened`,
  type: 'Warning',
  lastTimestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, second)),
});

describe('notReadyReport', () => {
  it.each<[string, Parameters<typeof notReadyReport>[0], string]>([
    [
      'no pod, and the workload that should make one',
      { name: 'pr-1', pods: [], events: [], workload: { kind: 'StatefulSet', replicas: 1, annotations: {} } },
      'no control plane pod exists (StatefulSet pr-1 wants 1 replica(s))',
    ],
    [
      'no pod and no workload',
      { name: 'pr-1', pods: [], events: [] },
      'no control plane pod exists and there is no StatefulSet or Deployment pr-1',
    ],
    [
      'the pods that are not Ready, and the events of the release’s objects only, oldest first',
      {
        name: 'pr-1',
        pods: [ready, pending, crashing],
        events: [
          event('Pod', 'pr-1-0', 'FailedScheduling', 3),
          event('PersistentVolumeClaim', 'data-pr-1-0', 'ProvisioningFailed', 1),
          event('StatefulSet', 'pr-1', 'SuccessfulCreate', 2),
          event('ReplicaSet', 'pr-1-7d9', 'Scaled', 4),
          event('Pod', 'other-0', 'Elsewhere', 5),
          event('Pod', 'pr-10-0', 'Elsewhere', 6),
        ],
      },
      [
        'pod pr-1-0: Pending; PodScheduled=False (Unschedulable: pod has unbound PVCs)',
        '  pod pr-1-1: Running; Ready=False (ContainersNotReady); container syncer waiting: CrashLoopBackOff, restarted 3×',
        '  events:',
        '    Warning ProvisioningFailed PersistentVolumeClaim/data-pr-1-0: ProvisioningFailed happened',
        '    Warning SuccessfulCreate StatefulSet/pr-1: SuccessfulCreate happened',
        '    Warning FailedScheduling Pod/pr-1-0: FailedScheduling happened',
        '    Warning Scaled ReplicaSet/pr-1-7d9: Scaled happened',
      ].join('\n'),
    ],
    ['a Ready pod and no events: nothing to add', { name: 'pr-1', pods: [ready], events: [] }, ''],
  ])('%s', (_, input, report) => {
    expect(notReadyReport(input)).toBe(report);
  });

  it('keeps the last eight events', () => {
    const events = Array.from({ length: 10 }, (_, i) => event('Pod', 'pr-1-0', `E${i}`, i));
    const lines = notReadyReport({ name: 'pr-1', pods: [], events }).split('\n').slice(2);
    expect(lines.map((line) => line.trim().split(' ')[1])).toEqual(
      Array.from({ length: 8 }, (_, i) => `E${i + 2}`),
    );
  });
});
