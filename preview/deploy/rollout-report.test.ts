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
