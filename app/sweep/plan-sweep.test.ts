import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../preview/repo-config.ts';
import { DEFAULT_SLEEP_AFTER, DEFAULT_TTL, planSweep, type SweepCandidate } from './plan-sweep.ts';

const now = new Date('2026-05-10T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const candidate = (change: Partial<SweepCandidate> = {}): SweepCandidate => ({
  repo: 'acme/shop',
  pr: 7,
  installationId: 3,
  state: 'running',
  createdAt: ago(2 * HOUR),
  lastActivity: ago(5 * MIN),
  ttl: '7d',
  sleepAfter: '1h',
  pullRequest: 'open',
  hasJob: false,
  ...change,
});

describe('planSweep', () => {
  const cases: [string, Partial<SweepCandidate>, ReturnType<typeof planSweep>[number] | undefined][] = [
    ['an open, recently used preview is left alone', {}, undefined],
    [
      'a closed pull request: down',
      { pullRequest: 'closed' },
      {
        repo: 'acme/shop',
        pr: 7,
        installationId: 3,
        desired: { kind: 'down' },
        reason: { kind: 'closed', text: 'the pull request was closed' },
      },
    ],
    [
      'a closed pull request with a paused preview: down too',
      { pullRequest: 'closed', state: 'paused' },
      {
        repo: 'acme/shop',
        pr: 7,
        installationId: 3,
        desired: { kind: 'down' },
        reason: { kind: 'closed', text: 'the pull request was closed' },
      },
    ],
    [
      'a pull request that no longer exists, no job: orphaned, down',
      { pullRequest: 'not-found' },
      {
        repo: 'acme/shop',
        pr: 7,
        installationId: 3,
        desired: { kind: 'down' },
        reason: { kind: 'orphaned', text: 'its pull request no longer exists' },
      },
    ],
    [
      'a job queued or running: never touched, even when closed',
      { pullRequest: 'closed', hasJob: true },
      undefined,
    ],
    [
      'a job queued or running: never touched, even when orphaned',
      { pullRequest: 'not-found', hasJob: true },
      undefined,
    ],
    [
      'a job queued or running: never touched, even when idle and past its ttl',
      { lastActivity: ago(30 * DAY), hasJob: true },
      undefined,
    ],
    [
      'running and idle past sleepAfter: pause',
      { lastActivity: ago(61 * MIN) },
      {
        repo: 'acme/shop',
        pr: 7,
        installationId: 3,
        desired: { kind: 'pause' },
        reason: { kind: 'idle', text: 'idle for 1h: paused' },
      },
    ],
    [
      'exactly sleepAfter idle is idle',
      { lastActivity: ago(HOUR), sleepAfter: '1h' },
      expect.objectContaining({ desired: { kind: 'pause' } }),
    ],
    ['just under sleepAfter is not', { lastActivity: ago(HOUR - 1000) }, undefined],
    ['idle but already paused: nothing', { lastActivity: ago(2 * HOUR), state: 'paused' }, undefined],
    [
      'idle but failed: not paused (nothing runs to pause)',
      { lastActivity: ago(2 * HOUR), state: 'failed' },
      undefined,
    ],
    [
      'the repo config’s own sleepAfter counts',
      { lastActivity: ago(20 * MIN), sleepAfter: '15m' },
      expect.objectContaining({ reason: { kind: 'idle', text: 'idle for 15m: paused' } }),
    ],
    [
      'past its ttl since the last activity: down, even when paused',
      { lastActivity: ago(8 * DAY), createdAt: ago(9 * DAY), state: 'paused' },
      expect.objectContaining({
        desired: { kind: 'down' },
        reason: { kind: 'expired', text: 'past its ttl of 7d' },
      }),
    ],
    [
      'created long ago but active lately: the ttl counts from the last activity',
      { createdAt: ago(30 * DAY), lastActivity: ago(10 * MIN) },
      undefined,
    ],
    [
      'no last activity on record: the ttl counts from creation',
      { createdAt: ago(3 * DAY), lastActivity: undefined, ttl: '72h' },
      expect.objectContaining({ reason: { kind: 'expired', text: 'past its ttl of 72h' } }),
    ],
    [
      'no times on record at all: nothing can be judged',
      { createdAt: undefined, lastActivity: undefined },
      undefined,
    ],
    [
      'ttl beats idle: an expired running preview is deleted, not paused',
      { lastActivity: ago(8 * DAY) },
      expect.objectContaining({ desired: { kind: 'down' } }),
    ],
    [
      'no lifetimes on record (older preview): the defaults 7d and 1h',
      { ttl: undefined, sleepAfter: undefined, lastActivity: ago(2 * HOUR) },
      expect.objectContaining({ reason: { kind: 'idle', text: 'idle for 1h: paused' } }),
    ],
    [
      'an unreadable lifetime falls back to the default',
      { ttl: 'forever', lastActivity: ago(8 * DAY) },
      expect.objectContaining({ reason: { kind: 'expired', text: 'past its ttl of 7d' } }),
    ],
    [
      'GitHub could not be asked: closed or orphaned is not decided, lifetimes still are',
      { pullRequest: 'unknown', lastActivity: ago(2 * HOUR) },
      expect.objectContaining({ desired: { kind: 'pause' } }),
    ],
    ['GitHub could not be asked, preview in use: nothing', { pullRequest: 'unknown' }, undefined],
    [
      'deployed long ago but visited just now: not idle',
      { lastActivity: ago(2 * HOUR), lastVisit: ago(0) },
      undefined,
    ],
    [
      'visited, but longer ago than sleepAfter: idle',
      { lastActivity: ago(3 * HOUR), lastVisit: ago(2 * HOUR) },
      expect.objectContaining({ desired: { kind: 'pause' } }),
    ],
    [
      'a visit also keeps the ttl from running out',
      { lastActivity: ago(8 * DAY), createdAt: ago(9 * DAY), lastVisit: ago(5 * MIN) },
      undefined,
    ],
    [
      'a visit on a preview with no times on record counts from the visit',
      { createdAt: undefined, lastActivity: undefined, lastVisit: ago(5 * MIN) },
      undefined,
    ],
    ['kept and idle past sleepAfter: not paused', { kept: true, lastActivity: ago(2 * HOUR) }, undefined],
    [
      'kept and past its ttl: not deleted',
      { kept: true, lastActivity: ago(30 * DAY), state: 'paused' },
      undefined,
    ],
    [
      'kept, but the pull request was closed: down all the same',
      { kept: true, pullRequest: 'closed' },
      expect.objectContaining({
        desired: { kind: 'down' },
        reason: expect.objectContaining({ kind: 'closed' }),
      }),
    ],
    [
      'kept, but its pull request no longer exists: down',
      { kept: true, pullRequest: 'not-found' },
      expect.objectContaining({ desired: { kind: 'down' } }),
    ],
  ];

  it.each(cases)('%s', (_name, change, expected) => {
    const actions = planSweep([candidate(change)], now);
    if (expected === undefined) expect(actions).toEqual([]);
    else expect(actions).toEqual([expected]);
  });

  it('keeps the order given and leaves out the installation when none is known', () => {
    const actions = planSweep(
      [
        candidate({ pr: 1, pullRequest: 'closed', installationId: undefined }),
        candidate({ pr: 2 }),
        candidate({ pr: 3, lastActivity: ago(2 * HOUR) }),
      ],
      now,
    );
    expect(actions.map((action) => [action.pr, action.desired.kind])).toEqual([
      [1, 'down'],
      [3, 'pause'],
    ]);
    expect(actions[0]).not.toHaveProperty('installationId');
  });

  it('uses the same defaults as the repo config', () => {
    const config = parseRepoConfig('manifests: k8s/\n');
    expect([config.ttl, config.sleepAfter]).toEqual([DEFAULT_TTL, DEFAULT_SLEEP_AFTER]);
  });
});
