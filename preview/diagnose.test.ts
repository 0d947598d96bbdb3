import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  describeEvents,
  describePod,
  failingContainers,
  formatCondition,
  formatLogTail,
  isPodReady,
  maskSecrets,
  podsWorthShowing,
} from './diagnose.ts';

const container = (name: string, extra: Partial<V1ContainerStatus>): V1ContainerStatus => ({
  name,
  image: name,
  imageID: '',
  ready: false,
  restartCount: 0,
  ...extra,
});

const ready: V1Pod = {
  metadata: { name: 'ok' },
  spec: { containers: [], nodeName: 'n1' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
};
const unschedulable: V1Pod = {
  metadata: { name: 'web-abc' },
  spec: { containers: [] },
  status: {
    phase: 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available' },
    ],
  },
};
const crashing: V1Pod = {
  metadata: { name: 'web-def' },
  spec: { containers: [], nodeName: 'n1' },
  status: {
    phase: 'Running',
    conditions: [
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
      // A condition without a reason says nothing the container lines do not.
      { type: 'ContainersReady', status: 'False' },
    ],
    containerStatuses: [
      container('web', {
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
      }),
      container('pull', { state: { waiting: { reason: 'ImagePullBackOff' } } }),
      container('side', { state: { running: {} } }),
      container('fine', { ready: true, state: { running: {} } }),
    ],
  },
};

describe('describePod', () => {
  it.each<[string, V1Pod, string]>([
    [
      'a pod the scheduler cannot place',
      unschedulable,
      'web-abc: Pending; PodScheduled=False (Unschedulable: 0/2 nodes are available)',
    ],
    [
      'a pod no scheduler has looked at yet',
      { metadata: { name: 'pr-1-0' }, spec: { containers: [] }, status: { phase: 'Pending' } },
      'pr-1-0: Pending; not scheduled',
    ],
    [
      'containers waiting, restarting, running but not ready (ready ones say nothing)',
      crashing,
      'web-def: Running; Ready=False (ContainersNotReady); container web waiting: CrashLoopBackOff (back-off 40s), restarted 3×; container pull waiting: ImagePullBackOff; container side running, not ready',
    ],
    [
      'an init container that cannot get its image, and one that failed',
      {
        metadata: { name: 'pr-1-0' },
        spec: { containers: [], nodeName: 'n1' },
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            container('pki', {
              state: { waiting: { reason: 'ErrImagePull', message: 'ghcr.io/x:no-such-tag: not found' } },
            }),
            container('init', { restartCount: 1, state: { terminated: { exitCode: 2, reason: 'Error' } } }),
          ],
        },
      },
      'pr-1-0: Pending; container pki waiting: ErrImagePull (ghcr.io/x:no-such-tag: not found); container init exited 2: Error, restarted 1×',
    ],
    [
      'a ready pod whose container restarted',
      {
        ...ready,
        status: {
          ...ready.status,
          containerStatuses: [container('web', { ready: true, restartCount: 2, state: { running: {} } })],
        },
      },
      'ok: Running, ready; container web restarted 2×',
    ],
    [
      'a pod being deleted is not ready',
      { ...ready, metadata: { name: 'ok', deletionTimestamp: new Date() } },
      'ok: Running; terminating',
    ],
    [
      'what the pod itself says, and no status at all',
      {
        metadata: { name: 'ev' },
        spec: { containers: [], nodeName: 'n1' },
        status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' },
      },
      'ev: Failed; Evicted: The node was low on resource: memory.',
    ],
    ['no status at all', { metadata: { name: 'new' } }, 'new: Unknown; not scheduled'],
  ])('%s', (_, pod, line) => {
    expect(describePod(pod)).toBe(line);
  });
});

describe('isPodReady', () => {
  it.each<[string, V1Pod, boolean]>([
    ['Ready=True', ready, true],
    [
      'Ready=True while being deleted',
      { ...ready, metadata: { name: 'ok', deletionTimestamp: new Date() } },
      false,
    ],
    ['Ready=False', crashing, false],
    ['no conditions', { metadata: { name: 'p' } }, false],
  ])('%s → %s', (_, pod, expected) => {
    expect(isPodReady(pod)).toBe(expected);
  });

  it('shows pods that are not ready first, at most the limit', () => {
    expect(podsWorthShowing([ready, unschedulable, crashing], 2)).toEqual([unschedulable, crashing]);
    expect(podsWorthShowing([ready, unschedulable])).toEqual([unschedulable, ready]);
  });
});

describe('formatCondition', () => {
  it.each([
    [
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
      'Available=False (MinimumReplicasUnavailable)',
    ],
    [
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'took too long' },
      'Progressing=False (ProgressDeadlineExceeded: took too long)',
    ],
    [{ type: 'Ready', status: 'Unknown' }, 'Ready=Unknown'],
  ])('%j → %s', (condition, text) => {
    expect(formatCondition(condition)).toBe(text);
  });
});

describe('describeEvents', () => {
  const event = (reason: string, extra: Partial<CoreV1Event> = {}): CoreV1Event => ({
    metadata: { name: `e-${reason}` },
    involvedObject: { kind: 'Pod', name: 'web-abc' },
    type: 'Warning',
    reason,
    message: `${reason} happened`,
    ...extra,
  });

  it.each<[string, CoreV1Event[], number | undefined, string[]]>([
    [
      'the last ones, oldest first, with their counts',
      [
        event('B', { lastTimestamp: new Date('2024-01-01T00:00:02Z'), count: 3 }),
        event('A', { lastTimestamp: new Date('2024-01-01T00:00:01Z') }),
        event('C', { lastTimestamp: new Date('2024-01-01T00:00:03Z') }),
      ],
      2,
      ['Warning B Pod/web-abc: B happened (×3)', 'Warning C Pod/web-abc: C happened'],
    ],
    [
      'time from whichever timestamp an event has; Normal when it has no type',
      [
        event('Late', { eventTime: new Date('2024-01-01T00:00:09Z') }),
        event('Early', {
          type: undefined,
          message: ' padded \n',
          metadata: { creationTimestamp: new Date('2024-01-01T00:00:01Z') },
        }),
        event('Middle', { firstTimestamp: new Date('2024-01-01T00:00:05Z') }),
      ],
      undefined,
      [
        'Normal Early Pod/web-abc: padded',
        'Warning Middle Pod/web-abc: Middle happened',
        'Warning Late Pod/web-abc: Late happened',
      ],
    ],
    ['none', [], 8, []],
  ])('%s', (_, events, limit, lines) => {
    expect(describeEvents(events, limit)).toEqual(lines);
  });

  it('keeps ten by default', () => {
    const many = Array.from({ length: 12 }, (_, i) =>
      event(`E${i}`, { lastTimestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, i)) }),
    );
    expect(describeEvents(many).map((line) => line.split(' ')[1])).toEqual(
      Array.from({ length: 10 }, (_, i) => `E${i + 2}`),
    );
  });
});

describe('failingContainers', () => {
  const pod = (statuses: V1Pod['status']): V1Pod => ({ metadata: { name: 'p' }, status: statuses });
  it.each([
    [
      'exited with an error',
      { containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 1 } } }] },
      [{ container: 'app', previous: false }],
    ],
    ['exited cleanly', { containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 0 } } }] }, []],
    [
      'waiting after a crash',
      {
        containerStatuses: [
          {
            name: 'app',
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 2 } },
          },
        ],
      },
      [{ container: 'app', previous: true }],
    ],
    [
      'waiting for its image',
      { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ImagePullBackOff' } } }] },
      [],
    ],
    [
      'init container first',
      {
        initContainerStatuses: [{ name: 'migrate', state: { terminated: { exitCode: 3 } } }],
        containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 1 } } }],
      },
      [
        { container: 'migrate', previous: false },
        { container: 'app', previous: false },
      ],
    ],
  ] as const)('%s', (_name, status, expected) => {
    expect(failingContainers(pod(status as unknown as V1Pod['status']))).toEqual(expected);
  });
});

describe('maskSecrets', () => {
  it.each([
    ['a Secret value', 'connecting with hunter22 now', ['hunter22'], 'connecting with *** now'],
    ['the longest value whole', 'key abcdefgh', ['abcd', 'abcdefgh'], 'key ***'],
    ['not values too short to matter', 'mode on', ['on'], 'mode on'],
    ['a GitHub token', 'token ghp_abcdefghijklmnopqrstuvwxyz0123', [], 'token ***'],
    ['a JWT', 'got eyJhbGciOiJI.eyJzdWIiOiIxMjM0.c2lnbmF0dXJlMTI', [], 'got ***'],
    ['a password in a URL', 'postgres://app:s3cr3t@db:5432/app', [], 'postgres://app:***@db:5432/app'],
    ['a secret-sounding key', 'DB_PASSWORD=s3cr3t other=1', [], 'DB_PASSWORD=*** other=1'],
    ['a bearer token', 'Authorization: Bearer abcdefghijkl', [], 'Authorization: Bearer ***'],
    ['plain text', 'listening on :8080', [], 'listening on :8080'],
  ])('masks %s', (_name, text, secrets, expected) => {
    expect(maskSecrets(text, secrets)).toBe(expected);
  });
});

describe('formatLogTail', () => {
  it('keeps the last lines, cut to width, without colours or blank ends', () => {
    const log = [
      '',
      'one',
      '\u001b[31mtwo\u001b[0m',
      'x'.repeat(30),
      'progress 10%\rprogress 100%',
      '',
      '',
    ].join('\n');
    expect(formatLogTail(log, { lines: 3, width: 10 })).toEqual(['two', `${'x'.repeat(9)}…`, 'progress …']);
  });
  it('masks the secrets it is given', () => {
    expect(formatLogTail('using hunter22\n', { secrets: ['hunter22'] })).toEqual(['using ***']);
  });
});
