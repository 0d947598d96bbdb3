import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  describePod,
  formatEvent,
  lastEvents,
  podsWorthShowing,
  rolloutErrorMessage,
  selectorString,
} from './rollout-report.ts';

const event = (reason: string, time: string, extra: Partial<CoreV1Event> = {}): CoreV1Event =>
  ({
    metadata: { name: `e-${reason}` },
    involvedObject: { kind: 'Pod', name: 'web-abc' },
    type: 'Warning',
    reason,
    message: `${reason} happened`,
    lastTimestamp: time,
    ...extra,
  }) as unknown as CoreV1Event;

describe('rollout report', () => {
  it('turns label selectors into queries', () => {
    expect(
      selectorString({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'env', operator: 'NotIn', values: ['prod'] },
          { key: 'canary', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,tier in (a,b),env notin (prod),canary,!legacy');
    expect(selectorString(undefined)).toBe('');
  });

  it('describes what keeps a pod from being ready', () => {
    const pending: V1Pod = {
      metadata: { name: 'web-abc' },
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/2 nodes are available',
          },
        ],
      },
    };
    expect(describePod(pending)).toBe(
      'web-abc: Pending; PodScheduled=False (Unschedulable: 0/2 nodes are available)',
    );
    const crashing: V1Pod = {
      metadata: { name: 'web-def' },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'web',
            image: 'web',
            imageID: '',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
          },
          {
            name: 'pull',
            image: 'nope',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff' } },
          },
          { name: 'side', image: 'x', imageID: '', ready: false, restartCount: 0, state: { running: {} } },
        ],
      },
    };
    expect(describePod(crashing)).toBe(
      'web-def: Running; container web: waiting (CrashLoopBackOff: back-off 40s), 3 restarts; container pull: waiting (ImagePullBackOff); container side: running, not ready',
    );
    const ready: V1Pod = {
      metadata: { name: 'ok' },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    expect(podsWorthShowing([ready, pending, crashing], 2)).toEqual([pending, crashing]);
  });

  it('shows the last events, oldest first, with their counts', () => {
    const events = [
      event('B', '2024-01-01T00:00:02Z', { count: 3 }),
      event('A', '2024-01-01T00:00:01Z'),
      event('C', '2024-01-01T00:00:03Z'),
    ];
    expect(lastEvents(events, 2).map(formatEvent)).toEqual([
      'Warning B Pod/web-abc: B happened (×3)',
      'Warning C Pod/web-abc: C happened',
    ]);
  });

  it('names every object in the headline, with its report below', () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' };
    const message = rolloutErrorMessage(
      [
        {
          ref,
          state: 'waiting',
          message: '0 of 2 replicas ready',
          conditions: ['Available=False (MinimumReplicasUnavailable)'],
          pods: ['web-abc: Pending'],
          events: ['Warning FailedScheduling Pod/web-abc: no nodes'],
        },
      ],
      20_000,
    );
    expect(message).toBe(
      [
        'rollout did not finish within 20s: Deployment default/web',
        'Deployment default/web: 0 of 2 replicas ready',
        '  conditions: Available=False (MinimumReplicasUnavailable)',
        '  pod web-abc: Pending',
        '  events:',
        '    Warning FailedScheduling Pod/web-abc: no nodes',
      ].join('\n'),
    );
    expect(
      rolloutErrorMessage([
        {
          ref: { ...ref, kind: 'Job', name: 'migrate' },
          state: 'failed',
          message: 'failed',
          conditions: [],
          pods: [],
          events: [],
        },
      ]).split('\n')[0],
    ).toBe('rollout failed: Job default/migrate');
  });
});
