import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isAwaited, rolloutStatus } from './rollout-status.ts';

const workload = (
  apiVersion: string,
  kind: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  generation = 2,
): KubernetesObject =>
  ({ apiVersion, kind, metadata: { name: 'x', generation }, spec, status }) as KubernetesObject;

const deployment = (status: Record<string, unknown>, replicas = 2) =>
  workload('apps/v1', 'Deployment', { replicas }, { observedGeneration: 2, ...status });

describe('rolloutStatus', () => {
  it('awaits only workloads', () => {
    expect(isAwaited({ apiVersion: 'apps/v1', kind: 'Deployment' })).toBe(true);
    expect(isAwaited({ apiVersion: 'batch/v1', kind: 'Job' })).toBe(true);
    expect(isAwaited({ apiVersion: 'example.com/v1', kind: 'Deployment' })).toBe(false);
    expect(rolloutStatus({ apiVersion: 'v1', kind: 'ConfigMap' })).toBeUndefined();
  });

  it.each([
    [{ observedGeneration: 1 }, 'waiting', 'generation 2 not yet observed by its controller (at 1)'],
    [{ updatedReplicas: 1, replicas: 2 }, 'waiting', '1 of 2 replicas updated'],
    [{ updatedReplicas: 2, replicas: 3 }, 'waiting', '1 old replica pending termination'],
    [{ updatedReplicas: 2, replicas: 2, readyReplicas: 1 }, 'waiting', '1 of 2 replicas ready'],
    [
      { updatedReplicas: 2, replicas: 2, readyReplicas: 2, availableReplicas: 1 },
      'waiting',
      '1 of 2 updated replicas available',
    ],
    [
      { updatedReplicas: 2, replicas: 2, readyReplicas: 2, availableReplicas: 2 },
      'done',
      '2 replicas available',
    ],
    [
      {
        updatedReplicas: 1,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'took too long',
          },
        ],
      },
      'failed',
      'exceeded its progress deadline: took too long',
    ],
  ])('Deployment %j → %s', (status, state, message) => {
    expect(rolloutStatus(deployment(status))).toEqual({ state, message });
  });

  it('a Deployment scaled to zero is done once observed', () => {
    expect(rolloutStatus(deployment({}, 0))?.state).toBe('done');
    expect(rolloutStatus(workload('apps/v1', 'Deployment', { replicas: 0 }, {}))?.state).toBe('waiting');
  });

  it('StatefulSets: ready pods, then the update revision', () => {
    const sts = (status: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
      rolloutStatus(
        workload('apps/v1', 'StatefulSet', { replicas: 3, ...spec }, { observedGeneration: 2, ...status }),
      );
    expect(sts({ readyReplicas: 2 })).toEqual({ state: 'waiting', message: '2 of 3 pods ready' });
    expect(sts({ readyReplicas: 3, currentRevision: 'a', updateRevision: 'b', updatedReplicas: 1 })).toEqual({
      state: 'waiting',
      message: '1 of 3 pods updated',
    });
    expect(sts({ readyReplicas: 3, currentRevision: 'b', updateRevision: 'b' })?.state).toBe('done');
    expect(
      sts(
        { readyReplicas: 3, currentRevision: 'a', updateRevision: 'b', updatedReplicas: 1 },
        { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
      )?.state,
    ).toBe('done');
    expect(
      sts(
        { readyReplicas: 3, currentRevision: 'a', updateRevision: 'b' },
        { updateStrategy: { type: 'OnDelete' } },
      )?.state,
    ).toBe('done');
  });

  it('DaemonSets: updated and available on every node', () => {
    const ds = (status: Record<string, unknown>) =>
      rolloutStatus(workload('apps/v1', 'DaemonSet', {}, { observedGeneration: 2, ...status }));
    expect(ds({ desiredNumberScheduled: 2, updatedNumberScheduled: 1 })?.message).toBe('1 of 2 pods updated');
    expect(ds({ desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 })?.message).toBe(
      '1 of 2 updated pods available',
    );
    expect(ds({ desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 })?.state).toBe(
      'done',
    );
  });

  it('Jobs: complete, failed, or counting completions', () => {
    const job = (status: Record<string, unknown>, spec: Record<string, unknown> = { completions: 2 }) =>
      rolloutStatus(workload('batch/v1', 'Job', spec, status, 1));
    expect(job({ succeeded: 1 })).toEqual({ state: 'waiting', message: '1 of 2 completions' });
    expect(job({ conditions: [{ type: 'Complete', status: 'True' }] })?.state).toBe('done');
    expect(
      job({
        conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'too many' }],
      }),
    ).toEqual({ state: 'failed', message: 'failed: BackoffLimitExceeded: too many' });
    expect(job({}, { suspend: true })?.state).toBe('done');
    expect(job({ active: 2 }, { parallelism: 2 })?.message).toBe('0 pods succeeded, 2 active');
  });
});
