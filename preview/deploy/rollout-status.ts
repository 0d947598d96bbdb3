import type { KubernetesObject } from '@kubernetes/client-node';
import { groupOf } from './objects.ts';

/**
 * Whether a workload has rolled out (pure, from the object as the API server returns it), by the
 * rules `kubectl rollout status` uses, plus readiness of every replica and Job completion.
 */

export type RolloutState = 'done' | 'waiting' | 'failed';

export interface RolloutStatus {
  state: RolloutState;
  /** What it is waiting for, or why it failed: `1 of 2 updated replicas available`. */
  message: string;
}

/** Kinds whose rollout is awaited. */
const AWAITED: Record<string, string> = {
  Deployment: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  Job: 'batch',
};

export const isAwaited = (object: KubernetesObject): boolean =>
  AWAITED[object.kind ?? ''] !== undefined && AWAITED[object.kind ?? ''] === groupOf(object.apiVersion ?? '');

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface Workload extends KubernetesObject {
  spec?: {
    replicas?: number;
    completions?: number | null;
    parallelism?: number;
    suspend?: boolean;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberReady?: number;
    numberAvailable?: number;
    succeeded?: number;
    failed?: number;
    active?: number;
    conditions?: Condition[];
  };
}

export const conditionsOf = (object: KubernetesObject): Condition[] =>
  (object as Workload).status?.conditions ?? [];

const condition = (object: KubernetesObject, type: string): Condition | undefined =>
  conditionsOf(object).find((c) => c.type === type);

const waiting = (message: string): RolloutStatus => ({ state: 'waiting', message });
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function deploymentStatus(d: Workload): RolloutStatus {
  const status = d.status ?? {};
  const progressing = condition(d, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return {
      state: 'failed',
      message: `exceeded its progress deadline: ${progressing.message ?? ''}`.trim(),
    };
  const desired = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  if (updated < desired) return waiting(`${updated} of ${desired} replicas updated`);
  if ((status.replicas ?? 0) > updated)
    return waiting(`${plural((status.replicas ?? 0) - updated, 'old replica')} pending termination`);
  if (ready < desired) return waiting(`${ready} of ${desired} replicas ready`);
  if (available < updated) return waiting(`${available} of ${updated} updated replicas available`);
  return { state: 'done', message: `${plural(available, 'replica')} available` };
}

function statefulSetStatus(s: Workload): RolloutStatus {
  const status = s.status ?? {};
  const desired = s.spec?.replicas ?? 1;
  const ready = status.readyReplicas ?? 0;
  if (ready < desired) return waiting(`${ready} of ${desired} pods ready`);
  if (s.spec?.updateStrategy?.type !== 'OnDelete') {
    const partition = s.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (partition > 0) {
      const updated = status.updatedReplicas ?? 0;
      if (updated < desired - partition)
        return waiting(`${updated} of ${desired - partition} pods updated (partitioned roll out)`);
    } else if (status.updateRevision && status.currentRevision !== status.updateRevision) {
      return waiting(`${status.updatedReplicas ?? 0} of ${desired} pods updated`);
    }
  }
  if (status.availableReplicas !== undefined && status.availableReplicas < desired)
    return waiting(`${status.availableReplicas} of ${desired} pods available`);
  return { state: 'done', message: `${plural(ready, 'pod')} ready` };
}

function daemonSetStatus(d: Workload): RolloutStatus {
  const status = d.status ?? {};
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  const available = status.numberAvailable ?? 0;
  if (updated < desired) return waiting(`${updated} of ${desired} pods updated`);
  if (available < desired) return waiting(`${available} of ${desired} updated pods available`);
  return { state: 'done', message: `${plural(available, 'pod')} available` };
}

function jobStatus(j: Workload): RolloutStatus {
  for (const type of ['Failed', 'FailureTarget']) {
    const failed = condition(j, type);
    if (failed?.status === 'True')
      return {
        state: 'failed',
        message: `failed: ${[failed.reason, failed.message].filter(Boolean).join(': ') || 'no reason given'}`,
      };
  }
  for (const type of ['Complete', 'SuccessCriteriaMet']) {
    if (condition(j, type)?.status === 'True') return { state: 'done', message: 'complete' };
  }
  if (j.spec?.suspend) return { state: 'done', message: 'suspended' };
  const completions = j.spec?.completions ?? (j.spec?.parallelism === undefined ? 1 : undefined);
  const succeeded = j.status?.succeeded ?? 0;
  return waiting(
    completions === undefined || completions === null
      ? `${plural(succeeded, 'pod')} succeeded, ${j.status?.active ?? 0} active`
      : `${succeeded} of ${completions} completions`,
  );
}

/** The rollout status of a workload, undefined for kinds that are not awaited. */
export function rolloutStatus(object: KubernetesObject): RolloutStatus | undefined {
  if (!isAwaited(object)) return undefined;
  const workload = object as Workload;
  const generation = workload.metadata?.generation ?? 0;
  const observed = workload.status?.observedGeneration ?? 0;
  if (object.kind !== 'Job' && observed < generation)
    return waiting(`generation ${generation} not yet observed by its controller (at ${observed})`);
  switch (object.kind) {
    case 'Deployment':
      return deploymentStatus(workload);
    case 'StatefulSet':
      return statefulSetStatus(workload);
    case 'DaemonSet':
      return daemonSetStatus(workload);
    default:
      return jobStatus(workload);
  }
}
