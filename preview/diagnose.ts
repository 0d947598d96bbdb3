import type { CoreV1Event, V1Pod, V1PodCondition } from '@kubernetes/client-node';

/**
 * Why pods are not ready, in words (pure): one line per pod and one per event, shared by the
 * rollout report of a pull request's app and the kubernetes provider's control plane timeout.
 */

/** Ready: the Ready condition is True and the pod is not being deleted. */
export function isPodReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** `Available=False (MinimumReplicasUnavailable: Deployment does not have minimum availability.)` */
export function formatCondition(condition: Pick<V1PodCondition, 'type' | 'status' | 'reason' | 'message'>) {
  const detail = [condition.reason, condition.message].filter(Boolean).join(': ');
  return `${condition.type}=${condition.status}${detail ? ` (${detail})` : ''}`;
}

type ContainerStatus = NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number];

/** `container web waiting: CrashLoopBackOff (back-off 40s), restarted 3×`, or nothing to say. */
function describeContainer(status: ContainerStatus): string | undefined {
  const { waiting, terminated, running } = status.state ?? {};
  let state: string | undefined;
  if (waiting)
    state = `waiting${waiting.reason ? `: ${waiting.reason}` : ''}${waiting.message ? ` (${waiting.message})` : ''}`;
  else if (terminated && terminated.exitCode !== 0)
    state = `exited ${terminated.exitCode}${terminated.reason ? `: ${terminated.reason}` : ''}`;
  else if (running && !status.ready) state = 'running, not ready';
  const restarts = (status.restartCount ?? 0) > 0 ? `restarted ${status.restartCount}×` : undefined;
  if (!state && !restarts) return undefined;
  return `container ${status.name} ${[state, restarts].filter(Boolean).join(', ')}`;
}

/**
 * One line about a pod: `web-7d9-abc: Pending; not scheduled; PodScheduled=False (Unschedulable: …);
 * container web waiting: ImagePullBackOff (…)`: its phase, whether it is ready, being deleted or
 * not yet placed on a node, what the pod and its failing conditions say, and every container that
 * is not running as it should.
 */
export function describePod(pod: V1Pod): string {
  const parts = [
    `${pod.metadata?.name}: ${pod.status?.phase ?? 'Unknown'}${isPodReady(pod) ? ', ready' : ''}`,
  ];
  if (pod.metadata?.deletionTimestamp) parts.push('terminating');
  const conditions = pod.status?.conditions ?? [];
  // The scheduler's own condition says more than "not scheduled", when it has written one.
  const unscheduled = conditions.some((c) => c.type === 'PodScheduled' && c.status !== 'True');
  if (!pod.spec?.nodeName && !unscheduled) parts.push('not scheduled');
  if (pod.status?.reason || pod.status?.message)
    parts.push([pod.status.reason, pod.status.message].filter(Boolean).join(': '));
  for (const condition of conditions) {
    if (condition.status !== 'True' && (condition.reason || condition.message))
      parts.push(formatCondition(condition));
  }
  for (const status of [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ]) {
    const described = describeContainer(status);
    if (described) parts.push(described);
  }
  return parts.join('; ');
}

/** Pods that are not ready first, then the rest; at most `limit`. */
export function podsWorthShowing(pods: V1Pod[], limit = 5): V1Pod[] {
  return [...pods].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b))).slice(0, limit);
}

const timeOf = (event: CoreV1Event): number => {
  const time =
    event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
  return time ? new Date(time as Date | string).getTime() : 0;
};

/** `Warning FailedScheduling Pod/web-abc: 0/2 nodes are available: … (×3)` */
function formatEvent(event: CoreV1Event): string {
  const count = (event.count ?? 1) > 1 ? ` (×${event.count})` : '';
  const object = `${event.involvedObject.kind}/${event.involvedObject.name}`;
  return `${event.type ?? 'Normal'} ${event.reason ?? ''} ${object}: ${(event.message ?? '').trim()}${count}`;
}

/** The last `limit` events, oldest first, one line each. */
export function describeEvents(events: CoreV1Event[], limit = 10): string[] {
  return [...events]
    .sort((a, b) => timeOf(a) - timeOf(b))
    .slice(-limit)
    .map(formatEvent);
}
