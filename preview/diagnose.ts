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

/** A container worth reading the log of: it exited with an error, or is waiting to restart after one. */
export interface FailingContainer {
  container: string;
  /** The log of the run that failed is the previous one: the container has restarted since. */
  previous: boolean;
}

/** The containers of a pod (init containers first) whose last run failed. */
export function failingContainers(pod: V1Pod): FailingContainer[] {
  const failing: FailingContainer[] = [];
  for (const status of [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ]) {
    const { terminated, waiting } = status.state ?? {};
    if (terminated && terminated.exitCode !== 0) failing.push({ container: status.name, previous: false });
    else if (waiting && (status.lastState?.terminated?.exitCode ?? 0) !== 0)
      failing.push({ container: status.name, previous: true });
  }
  return failing;
}

/** Values this short are not masked: masking `1` or `on` would hide half a log and protect nothing. */
const MIN_SECRET_LENGTH = 4;

/** Token-like text, masked whatever the Secrets hold: `key=value` of a secret-sounding key keeps its key. */
const TOKEN_PATTERNS: readonly [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '***'],
  [/\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/g, '***'],
  [/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|xox[abpr]-[\w-]{10,})/g, '***'],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, '***'],
  [/\b(bearer|basic)\s+[\w.~+/=-]{8,}/gi, '$1 ***'],
  [/:\/\/([^/\s:@]+):[^/\s@]+@/g, '://$1:***@'],
  [
    /\b([\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)[\w-]*)(["']?\s*[=:]\s*["']?)([^\s"',;]+)/gi,
    '$1$2***',
  ],
];

/**
 * `text` with every value of `secrets` (the preview's Secrets) and anything token-like replaced by
 * `***`: a log quoted on a pull request is read by everyone who can read the pull request.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  // Longest first: a value that contains another is masked whole.
  for (const secret of [...new Set(secrets)].sort((a, b) => b.length - a.length)) {
    if (secret.trim().length >= MIN_SECRET_LENGTH) masked = masked.split(secret).join('***');
  }
  for (const [pattern, replacement] of TOKEN_PATTERNS) masked = masked.replace(pattern, replacement);
  return masked;
}

export interface LogTailOptions {
  /** Lines kept from the end (default 20). */
  lines?: number;
  /** Characters kept of each line (default 200). */
  width?: number;
  /** Values to mask (the preview's Secrets). */
  secrets?: readonly string[];
}

/**
 * The last lines of a container's log as they are quoted on the pull request: secrets masked, control
 * characters (colours, carriage returns) dropped, each line cut to `width` with `…`, blank ends trimmed.
 */
export function formatLogTail(text: string, options: LogTailOptions = {}): string[] {
  const limit = options.lines ?? 20;
  const width = options.width ?? 200;
  const lines = maskSecrets(text, options.secrets ?? [])
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colours are what is removed.
    .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
    .split(/\r?\n/)
    .map((line) => (line.includes('\r') ? (line.split('\r').filter(Boolean).at(-1) ?? '') : line))
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what is left of control characters goes.
    .map((line) => line.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  while (lines.length > 0 && lines[0] === '') lines.shift();
  return lines.slice(-limit).map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
}
