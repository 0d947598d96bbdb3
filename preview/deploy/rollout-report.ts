import type { CoreV1Event, V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { describeRef, type ObjectRef } from './objects.ts';
import type { Condition, RolloutState } from './rollout-status.ts';

/**
 * What a failed rollout tells the pull request (pure): the workload, what it waited for, its
 * conditions, its pods' states and the last events of it, its ReplicaSets and its pods.
 */

export interface RolloutFailure {
  ref: ObjectRef;
  state: Exclude<RolloutState, 'done'>;
  /** What it was waiting for, or why it failed. */
  message: string;
  conditions: string[];
  pods: string[];
  events: string[];
}

/** `Available=False (MinimumReplicasUnavailable: Deployment does not have minimum availability.)` */
export function formatCondition(condition: Condition): string {
  const detail = [condition.reason, condition.message].filter(Boolean).join(': ');
  return `${condition.type}=${condition.status}${detail ? ` (${detail})` : ''}`;
}

/** A label selector as a `labelSelector` query (`app=web,tier in (a,b),!legacy`). */
export function selectorString(selector: V1LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = (expression.values ?? []).join(',');
    if (expression.operator === 'In') parts.push(`${expression.key} in (${values})`);
    else if (expression.operator === 'NotIn') parts.push(`${expression.key} notin (${values})`);
    else if (expression.operator === 'Exists') parts.push(expression.key);
    else if (expression.operator === 'DoesNotExist') parts.push(`!${expression.key}`);
  }
  return parts.join(',');
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ??
  false;

/** One line per pod: `web-7d9-abc: Pending; PodScheduled=False (Unschedulable: …); container web: waiting (ImagePullBackOff: …)`. */
export function describePod(pod: V1Pod): string {
  const parts = [`${pod.metadata?.name}: ${pod.status?.phase ?? 'Unknown'}${isReady(pod) ? ', ready' : ''}`];
  if (pod.metadata?.deletionTimestamp) parts.push('terminating');
  if (pod.status?.reason || pod.status?.message)
    parts.push([pod.status.reason, pod.status.message].filter(Boolean).join(': '));
  for (const condition of pod.status?.conditions ?? []) {
    if (condition.status !== 'True' && (condition.reason || condition.message))
      parts.push(formatCondition(condition as Condition));
  }
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const { waiting, terminated } = status.state ?? {};
    const restarts = status.restartCount > 0 ? `, ${status.restartCount} restarts` : '';
    if (waiting?.reason)
      parts.push(
        `container ${status.name}: waiting (${[waiting.reason, waiting.message].filter(Boolean).join(': ')})${restarts}`,
      );
    else if (terminated && terminated.exitCode !== 0)
      parts.push(
        `container ${status.name}: exited ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}${restarts}`,
      );
    else if (!status.ready && status.state?.running)
      parts.push(`container ${status.name}: running, not ready${restarts}`);
  }
  return parts.join('; ');
}

/** Pods that are not ready first, then the rest; at most `limit`. */
export function podsWorthShowing(pods: V1Pod[], limit = 5): V1Pod[] {
  return [...pods].sort((a, b) => Number(isReady(a)) - Number(isReady(b))).slice(0, limit);
}

const timeOf = (event: CoreV1Event): number => {
  const time =
    event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
  return time ? new Date(time as Date | string).getTime() : 0;
};

/** `Warning FailedScheduling Pod/web-abc: 0/2 nodes are available: … (×3)` */
export function formatEvent(event: CoreV1Event): string {
  const count = (event.count ?? 1) > 1 ? ` (×${event.count})` : '';
  const object = `${event.involvedObject.kind}/${event.involvedObject.name}`;
  return `${event.type ?? 'Normal'} ${event.reason ?? ''} ${object}: ${(event.message ?? '').trim()}${count}`;
}

/** The last `limit` events, oldest first. */
export function lastEvents(events: CoreV1Event[], limit = 10): CoreV1Event[] {
  return [...events].sort((a, b) => timeOf(a) - timeOf(b)).slice(-limit);
}

/** The failure as the lines of a report, indented under the object it is about. */
export function formatFailure(failure: RolloutFailure): string {
  const lines = [`${describeRef(failure.ref)}: ${failure.message}`];
  if (failure.conditions.length > 0) lines.push(`  conditions: ${failure.conditions.join('; ')}`);
  for (const pod of failure.pods) lines.push(`  pod ${pod}`);
  if (failure.events.length > 0) {
    lines.push('  events:');
    for (const event of failure.events) lines.push(`    ${event}`);
  }
  return lines.join('\n');
}

/** The message of a RolloutError: what went wrong (a timeout or a failure) and every object's report. */
export function rolloutErrorMessage(failures: RolloutFailure[], timeoutMs?: number): string {
  const failed = failures.filter((failure) => failure.state === 'failed');
  const headline =
    failed.length > 0
      ? `rollout failed: ${failed.map((failure) => describeRef(failure.ref)).join(', ')}`
      : `rollout did not finish within ${Math.round((timeoutMs ?? 0) / 1000)}s: ${failures.map((failure) => describeRef(failure.ref)).join(', ')}`;
  return [headline, ...failures.map(formatFailure)].join('\n');
}
