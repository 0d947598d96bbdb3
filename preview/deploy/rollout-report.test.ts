import { describe, expect, it } from 'vitest';
import { rolloutErrorMessage, selectorString } from './rollout-report.ts';

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
          logs: [],
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
          logs: [],
          events: [],
        },
      ]).split('\n')[0],
    ).toBe('rollout failed: Job default/migrate');
  });

  it("quotes the failing containers' log tails under their pods, before the events", () => {
    const message = rolloutErrorMessage(
      [
        {
          ref: { apiVersion: 'batch/v1', kind: 'Job', namespace: 'default', name: 'migrate' },
          state: 'failed',
          message: 'failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
          conditions: [],
          pods: ['migrate-x7k: Failed; container main exited 3: Error'],
          logs: [
            {
              pod: 'migrate-x7k',
              container: 'main',
              previous: false,
              lines: ['migrating', 'ERROR: no table'],
            },
            { pod: 'web-1', container: 'web', previous: true, lines: ['(the log is empty)'] },
          ],
          events: ['Warning BackoffLimitExceeded Job/migrate: Job has reached the specified backoff limit'],
        },
      ],
      undefined,
      'pre-deploy Job',
    );
    expect(message).toBe(
      [
        'pre-deploy Job failed: Job default/migrate',
        'Job default/migrate: failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
        '  pod migrate-x7k: Failed; container main exited 3: Error',
        '  log of migrate-x7k, container main:',
        '    migrating',
        '    ERROR: no table',
        '  log of web-1, container web (the run before its restart):',
        '    (the log is empty)',
        '  events:',
        '    Warning BackoffLimitExceeded Job/migrate: Job has reached the specified backoff limit',
      ].join('\n'),
    );
  });
});
