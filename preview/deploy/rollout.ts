import type { KubernetesObject, V1LabelSelector } from '@kubernetes/client-node';
import { objectPath, rawRequest } from '../../kube/apply.ts';
import type { KubeClients } from '../../kube/client.ts';
import { HOST_QUOTA_EXCEEDED_REASON } from '../../syncer/engine/host-quota.ts';
import { describeEvents, describePod, formatCondition, podsWorthShowing } from '../diagnose.ts';
import { readFailingLogs } from '../read-pod-logs.ts';
import { readPodsAndEvents } from '../read-pods-and-events.ts';
import { describeRef, identityOf, type ObjectRef, refOf } from './objects.ts';
import { type RolloutFailure, rolloutErrorMessage, selectorString } from './rollout-report.ts';
import { conditionsOf, isAwaited, type RolloutStatus, rolloutStatus } from './rollout-status.ts';

/**
 * Waiting until the app's Deployments, StatefulSets, DaemonSets and Jobs have rolled out in the
 * virtual cluster. A failure or a timeout throws a RolloutError whose message is what the pull
 * request shows: the objects that did not make it, their conditions, their pods and the last events.
 */

export interface RolloutOptions {
  /** How long all of them may take together (default 5 minutes). */
  timeoutMs?: number;
  /** Between two looks (default 500 ms). */
  intervalMs?: number;
  /** Progress messages, one when an object's status changes. */
  report?: (message: string) => void;
  /** What is rolled out, for the error's headline (default `rollout`; `pre-deploy Job` for a hook). */
  what?: string;
}

export class RolloutError extends Error {
  override name = 'RolloutError';
  constructor(
    readonly failures: RolloutFailure[],
    readonly timedOut: boolean,
    timeoutMs?: number,
    what?: string,
    /** The host's quota kept its pods off the host: only fewer objects (or a larger quota) help. */
    readonly hostQuotaFull = false,
  ) {
    super(rolloutErrorMessage(failures, timedOut ? timeoutMs : undefined, what));
  }
}

interface Live {
  ref: ObjectRef;
  object?: KubernetesObject;
  status: RolloutStatus;
}

async function readLive(virtual: KubeClients, object: KubernetesObject): Promise<Live> {
  const ref = refOf(object);
  const { status, body } = await rawRequest(virtual, 'GET', await objectPath(virtual, object));
  if (status === 404) return { ref, status: { state: 'waiting', message: 'not found' } };
  if (status >= 300) return { ref, status: { state: 'waiting', message: `could not read it: ${status}` } };
  const live = JSON.parse(body) as KubernetesObject;
  return { ref, object: live, status: rolloutStatus(live) ?? { state: 'done', message: '' } };
}

async function listJson<T>(virtual: KubeClients, path: string): Promise<T[]> {
  const { status, body } = await rawRequest(virtual, 'GET', path);
  return status === 200 ? ((JSON.parse(body) as { items?: T[] }).items ?? []) : [];
}

/** The conditions, pods and last events of a workload that did not roll out. */
async function diagnose(virtual: KubeClients, live: Live): Promise<RolloutFailure> {
  const { ref, object, status } = live;
  const failure: RolloutFailure = {
    ref,
    state: status.state === 'failed' ? 'failed' : 'waiting',
    message: status.message,
    conditions: object ? conditionsOf(object).map(formatCondition) : [],
    pods: [],
    logs: [],
    events: [],
  };
  if (!object) return failure;
  const namespace = ref.namespace ?? 'default';
  const involved = new Set([`${ref.kind}/${ref.name}`]);
  try {
    const selector = selectorString((object as { spec?: { selector?: V1LabelSelector } }).spec?.selector);
    const query = `?labelSelector=${encodeURIComponent(selector)}`;
    const [{ pods, events }, replicaSets] = await Promise.all([
      readPodsAndEvents(virtual, namespace, selector || undefined),
      ref.kind === 'Deployment' && selector
        ? listJson<KubernetesObject>(
            virtual,
            `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/replicasets${query}`,
          )
        : Promise.resolve([]),
    ]);
    const uid = object.metadata?.uid;
    for (const replicaSet of replicaSets) {
      if (replicaSet.metadata?.ownerReferences?.some((owner) => owner.uid === uid))
        involved.add(`ReplicaSet/${replicaSet.metadata?.name}`);
    }
    for (const pod of pods) involved.add(`Pod/${pod.metadata?.name}`);
    const shown = podsWorthShowing(pods);
    failure.pods = shown.map(describePod);
    failure.logs = await readFailingLogs(virtual, namespace, shown);
    if (pods.length > failure.pods.length)
      failure.pods.push(`… and ${pods.length - failure.pods.length} more`);
    failure.events = describeEvents(
      events.filter((event) => involved.has(`${event.involvedObject.kind}/${event.involvedObject.name}`)),
    );
  } catch (error) {
    failure.pods.push(
      `(could not list its pods and events: ${error instanceof Error ? error.message : error})`,
    );
  }
  return failure;
}

interface QuotaEvent {
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string };
}

/** How long a pod the host's quota refused may stay off the host before the rollout gives up on it. */
const QUOTA_GRACE_MS = 10_000;

/**
 * The syncer's message when the host's quota has kept a pod of this namespace off the host for a
 * while (syncer/engine/host-quota.ts): it would wait forever, so the rollout fails at once. A pod
 * refused for a moment during a rolling update (the surge pod, before an old one went) is left to
 * the syncer's retry: only one still unbound after QUOTA_GRACE_MS counts.
 */
async function hostQuotaRefusal(
  virtual: KubeClients,
  namespace: string,
  graceMs = QUOTA_GRACE_MS,
): Promise<string | undefined> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
  const events = await listJson<QuotaEvent>(
    virtual,
    `${path}/events?fieldSelector=${encodeURIComponent(`reason=${HOST_QUOTA_EXCEEDED_REASON}`)}`,
  );
  const now = Date.now();
  for (const event of events.reverse()) {
    const at = Date.parse(event.lastTimestamp ?? event.eventTime ?? '');
    // An event of an earlier deploy counts too while its pod still waits: the syncer writes one
    // per pod and minute, so a redeploy may see no new one for a while.
    if (!(now - at >= graceMs) || event.involvedObject?.kind !== 'Pod') continue;
    const { status, body } = await rawRequest(
      virtual,
      'GET',
      `${path}/pods/${encodeURIComponent(event.involvedObject.name ?? '')}`,
    );
    const pod = status === 200 ? (JSON.parse(body) as { spec?: { nodeName?: string } }) : undefined;
    if (pod && !pod.spec?.nodeName) return event.message;
  }
  return undefined;
}

/**
 * Resolves once every Deployment, StatefulSet, DaemonSet and Job among `objects` has rolled out in
 * the virtual cluster (other kinds are not awaited). Throws a RolloutError at once when one fails
 * (a Deployment past its progress deadline, a failed Job), or when `timeoutMs` passes.
 */
export async function waitForRollout(
  virtual: KubeClients,
  objects: readonly KubernetesObject[],
  options: RolloutOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  const report = options.report ?? (() => {});
  let pending = objects.filter(isAwaited);
  const lastMessage = new Map<string, string>();
  let quotaLookedAt = 0;
  let refusedByQuota = false;
  for (;;) {
    const seen = await Promise.all(pending.map((object) => readLive(virtual, object)));
    if (Date.now() - quotaLookedAt >= 2_000) {
      quotaLookedAt = Date.now();
      const waiting = seen.filter((live) => live.status.state === 'waiting');
      const namespaces = [...new Set(waiting.map((live) => live.ref.namespace ?? 'default'))];
      const refusals = new Map(
        await Promise.all(
          namespaces.map(
            async (namespace) => [namespace, await hostQuotaRefusal(virtual, namespace)] as const,
          ),
        ),
      );
      for (const live of waiting) {
        const refusal = refusals.get(live.ref.namespace ?? 'default');
        if (refusal) {
          live.status = { state: 'failed', message: refusal };
          refusedByQuota = true;
        }
      }
    }
    for (const live of seen) {
      const key = identityOf(live.ref);
      const message = `${describeRef(live.ref)}: ${live.status.state === 'done' ? 'rolled out' : live.status.message}`;
      if (lastMessage.get(key) !== message) report(message);
      lastMessage.set(key, message);
    }
    const failed = seen.filter((live) => live.status.state === 'failed');
    if (failed.length > 0)
      throw new RolloutError(
        await Promise.all(failed.map((live) => diagnose(virtual, live))),
        false,
        undefined,
        options.what,
        refusedByQuota,
      );
    pending = pending.filter((_, index) => seen[index]?.status.state !== 'done');
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      const waiting = seen.filter((live) => live.status.state !== 'done');
      // Out of time within the grace of a quota refusal: the refusal is still why, not the clock.
      const refusals = await Promise.all(
        [...new Set(waiting.map((live) => live.ref.namespace ?? 'default'))].map((namespace) =>
          hostQuotaRefusal(virtual, namespace, 0),
        ),
      );
      throw new RolloutError(
        await Promise.all(waiting.map((live) => diagnose(virtual, live))),
        true,
        timeoutMs,
        options.what,
        refusals.some((refusal) => refusal !== undefined),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
}
