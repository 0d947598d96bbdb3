import type { V1LabelSelector } from '@kubernetes/client-node';
import type { ContainerLogTail } from '../read-pod-logs.ts';
import { describeRef, type ObjectRef } from './objects.ts';
import type { RolloutState } from './rollout-status.ts';

/**
 * What a failed rollout tells the pull request (pure): the workload, what it waited for, its
 * conditions, its pods' states, the log tails of its failing containers, and the last events of it,
 * its ReplicaSets and its pods (each pod, log and event in the words of preview/diagnose.ts).
 */

export interface RolloutFailure {
  ref: ObjectRef;
  state: Exclude<RolloutState, 'done'>;
  /** What it was waiting for, or why it failed. */
  message: string;
  conditions: string[];
  pods: string[];
  /** The last lines of its failing containers' logs, masked. */
  logs: ContainerLogTail[];
  events: string[];
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

/** The failure as the lines of a report, indented under the object it is about. */
export function formatFailure(failure: RolloutFailure): string {
  const lines = [`${describeRef(failure.ref)}: ${failure.message}`];
  if (failure.conditions.length > 0) lines.push(`  conditions: ${failure.conditions.join('; ')}`);
  for (const pod of failure.pods) lines.push(`  pod ${pod}`);
  for (const log of failure.logs) {
    lines.push(
      `  log of ${log.pod}, container ${log.container}${log.previous ? ' (the run before its restart)' : ''}:`,
    );
    for (const line of log.lines) lines.push(`    ${line}`);
  }
  if (failure.events.length > 0) {
    lines.push('  events:');
    for (const event of failure.events) lines.push(`    ${event}`);
  }
  return lines.join('\n');
}

/** The message of a RolloutError: what went wrong (a timeout or a failure) and every object's report. */
export function rolloutErrorMessage(
  failures: RolloutFailure[],
  timeoutMs?: number,
  /** What was rolled out (`rollout`, `pre-deploy Job`). */
  what = 'rollout',
): string {
  const failed = failures.filter((failure) => failure.state === 'failed');
  const headline =
    failed.length > 0
      ? `${what} failed: ${failed.map((failure) => describeRef(failure.ref)).join(', ')}`
      : `${what} did not finish within ${Math.round((timeoutMs ?? 0) / 1000)}s: ${failures.map((failure) => describeRef(failure.ref)).join(', ')}`;
  return [headline, ...failures.map(formatFailure)].join('\n');
}
