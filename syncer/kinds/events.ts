import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ignoreNotFound, isAlreadyExists, isConflict, isNotFound } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import { Informer } from '../engine/informer.ts';
import type { SyncerMetrics } from '../engine/metrics.ts';
import type { SyncAction, SyncContext, SyncLoop } from '../engine/resource-syncer.ts';
import { WorkQueue } from '../engine/work-queue.ts';
import {
  eventToVirtual,
  eventUpdateToVirtual,
  isSyncedEventKind,
  SYNCED_EVENT_KINDS,
  type VirtualInvolvedObject,
} from '../translate/event.ts';
import { isManagedBy, type SyncedKind, UID_ANNOTATION, virtualKeyOf } from '../translate/metadata.ts';

/** What the event syncer needs of the sync context: both clusters and the caches of the synced kinds. */
export type EventSyncContext = Pick<
  SyncContext,
  'translate' | 'host' | 'virtual' | 'hostCache' | 'virtualCache'
>;

export interface EventSyncerOptions {
  /** Concurrent reconciles (default 4). */
  workers?: number;
  /** How long a host object found not to be ours is not looked up again (default 10 minutes). */
  unmanagedTtlMs?: number;
}

const METRIC_KIND = 'Event';
const MAX_UNMANAGED = 10_000;
const MAX_COPIED = 50_000;

/**
 * Events, up only (like vcluster): a core/v1 Event in the host namespace about a host object this
 * vcluster manages (Pod, Service, Endpoints, Secret, ConfigMap, PVC, Ingress) is copied into the
 * virtual namespace, pointing at the virtual object, with host names in name and message replaced.
 * Keyed by host event name. Events about anything else in the host namespace are never copied, and
 * nothing ever goes down.
 */
export class EventSyncer implements SyncLoop {
  readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 30_000 });
  readonly informer: Informer<CoreV1Event>;
  private workers: Promise<void>[] = [];
  /** Host objects (kind/name/uid) known not to be ours, with when to look again. */
  private readonly unmanaged = new Map<string, number>();
  /** Virtual events (`namespace/name`) this process wrote: a change to their host event is an update. */
  private readonly copied = new Set<string>();
  private readonly workerCount: number;
  private readonly unmanagedTtlMs: number;

  constructor(
    private readonly context: EventSyncContext,
    private readonly metrics: SyncerMetrics,
    private readonly logger: Logger,
    options: EventSyncerOptions = {},
  ) {
    this.workerCount = options.workers ?? 4;
    this.unmanagedTtlMs = options.unmanagedTtlMs ?? 10 * 60_000;
    const namespace = context.translate.hostNamespace;
    this.informer = new Informer<CoreV1Event>({
      name: 'host/Event',
      config: context.host.config,
      path: `/api/v1/namespaces/${namespace}/events`,
      list: () => context.host.core.listNamespacedEvent({ namespace }),
      logger,
      onError: () => metrics.watchErrors.inc({ informer: 'host/Event' }),
      onEvent: (event, hostEvent) => {
        // A host event going away (TTL) leaves the virtual copy to the virtual cluster's own TTL.
        if (event !== 'delete' && this.isCandidate(hostEvent)) this.queue.add(hostEvent.metadata?.name ?? '');
      },
    });
  }

  async startInformers(): Promise<void> {
    await this.informer.start();
  }

  startWorkers(): void {
    for (const hostEvent of this.informer.list()) {
      if (this.isCandidate(hostEvent)) this.queue.add(hostEvent.metadata?.name ?? '');
    }
    for (let i = 0; i < this.workerCount; i++) this.workers.push(this.work());
  }

  get hasSynced(): boolean {
    return this.informer.hasSynced;
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.informer.stop();
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** Host event about an object of a synced kind in the host namespace: worth resolving. */
  private isCandidate(hostEvent: CoreV1Event): boolean {
    const ref = hostEvent.involvedObject;
    return (
      !!hostEvent.metadata?.name &&
      !!ref?.name &&
      ref.namespace === this.context.translate.hostNamespace &&
      isSyncedEventKind(hostEvent)
    );
  }

  private async work(): Promise<void> {
    for (;;) {
      this.metrics.queueDepth.set({ kind: METRIC_KIND }, this.queue.depth);
      const item = await this.queue.get();
      if (!item) return;
      try {
        const action = await this.reconcile(item.key);
        this.queue.forget(item.key);
        if (action !== 'none' && action !== 'skip') this.metrics.syncs.inc({ kind: METRIC_KIND, action });
        this.metrics.syncLatency.observe({ kind: METRIC_KIND }, (Date.now() - item.queuedAt) / 1000);
      } catch (error) {
        if (isConflict(error) || isAlreadyExists(error) || isNotFound(error))
          this.queue.addAfter(item.key, 1000);
        else {
          this.metrics.errors.inc({ kind: METRIC_KIND });
          const delay = this.queue.addRateLimited(item.key);
          this.logger.warn({ event: item.key, err: error, retryInMs: delay }, 'event sync failed');
        }
      } finally {
        this.queue.done(item.key);
      }
    }
  }

  /** Copies one host event up, creating or updating its virtual twin. */
  async reconcile(hostEventName: string): Promise<SyncAction> {
    const hostEvent = this.informer.get(hostEventName, this.context.translate.hostNamespace);
    if (!hostEvent || !this.isCandidate(hostEvent)) return 'none';
    const involved = await this.resolve(hostEvent);
    if (!involved) return 'skip';
    const source = normalizeEvent(hostEvent);
    const desired = eventToVirtual(source, involved);
    const name = desired.metadata.name ?? '';
    const events = this.context.virtual.core;
    // Most host events are new (a pod scheduled, pulled, started): create without reading first, and
    // read only when the virtual copy exists, which saves the virtual API server a GET per event.
    if (!this.copied.has(`${involved.namespace}/${name}`)) {
      try {
        await events.createNamespacedEvent({ namespace: involved.namespace, body: desired });
        this.rememberCopied(`${involved.namespace}/${name}`);
        return 'create';
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    }
    const existing = await this.readVirtualEvent(name, involved.namespace);
    if (!existing) {
      // Gone meanwhile (its TTL ran out): copy it again. A conflict is retried by the worker.
      await events.createNamespacedEvent({ namespace: involved.namespace, body: desired });
      this.rememberCopied(`${involved.namespace}/${name}`);
      return 'create';
    }
    this.rememberCopied(`${involved.namespace}/${name}`);
    const patch = eventUpdateToVirtual(source, existing, involved);
    if (!patch) return 'none';
    await events.patchNamespacedEvent({ name, namespace: involved.namespace, body: patch }, mergePatch);
    return 'update';
  }

  /**
   * The virtual object a host event is about, when the host object is one this vcluster manages:
   * host object from the cache (or the API when the cache lags), twin from its object-name marks.
   */
  private async resolve(hostEvent: CoreV1Event): Promise<VirtualInvolvedObject | undefined> {
    const { translate } = this.context;
    const ref = hostEvent.involvedObject;
    const kind = ref.kind as SyncedKind;
    const name = ref.name ?? '';
    const id = `${kind}/${name}/${ref.uid ?? ''}`;
    const until = this.unmanaged.get(id);
    if (until !== undefined) {
      if (until > Date.now()) return undefined;
      this.unmanaged.delete(id);
    }

    const sameObject = (object: KubernetesObject | undefined) =>
      object !== undefined && (!ref.uid || object.metadata?.uid === ref.uid);
    let hostObject: KubernetesObject | undefined = this.context
      .hostCache<KubernetesObject>(kind)
      .get(name, translate.hostNamespace);
    if (!sameObject(hostObject)) hostObject = await this.read('host', kind, name, translate.hostNamespace);
    // Gone, or the event is about an earlier object of that name: nothing to point the event at.
    if (!hostObject || !sameObject(hostObject)) return undefined;
    const key = virtualKeyOf(hostObject);
    if (!key || !isManagedBy(hostObject, translate, kind)) {
      this.rememberUnmanaged(id);
      return undefined;
    }

    const wantedUid = hostObject.metadata?.annotations?.[UID_ANNOTATION];
    const matches = (object: KubernetesObject | undefined) =>
      object !== undefined && (!wantedUid || object.metadata?.uid === wantedUid);
    let virtualObject: KubernetesObject | undefined = this.context
      .virtualCache<KubernetesObject>(kind)
      .get(key.name, key.namespace);
    if (!matches(virtualObject)) virtualObject = await this.read('virtual', kind, key.name, key.namespace);
    if (!virtualObject || !matches(virtualObject)) return undefined;
    return {
      namespace: key.namespace,
      name: key.name,
      uid: virtualObject.metadata?.uid,
      resourceVersion: virtualObject.metadata?.resourceVersion,
    };
  }

  private rememberCopied(key: string): void {
    // Only a hint (a forgotten one costs a refused create): bounded like `unmanaged`.
    if (this.copied.size >= MAX_COPIED) this.copied.clear();
    this.copied.add(key);
  }

  private rememberUnmanaged(id: string): void {
    if (this.unmanaged.size >= MAX_UNMANAGED) this.unmanaged.clear();
    this.unmanaged.set(id, Date.now() + this.unmanagedTtlMs);
  }

  private async read(
    side: 'host' | 'virtual',
    kind: SyncedKind,
    name: string,
    namespace: string,
  ): Promise<KubernetesObject | undefined> {
    return this.context[side].objects
      .read({ apiVersion: SYNCED_EVENT_KINDS[kind] ?? 'v1', kind, metadata: { name, namespace } })
      .catch(ignoreNotFound);
  }

  private async readVirtualEvent(name: string, namespace: string): Promise<CoreV1Event | undefined> {
    return this.context.virtual.core.readNamespacedEvent({ name, namespace }).catch(ignoreNotFound);
  }
}

/** How Syncer builds it: one per syncer, beside the controllers, reading their caches. */
export function eventSyncerFor(
  context: SyncContext,
  metrics: SyncerMetrics,
  logger: Logger,
  options?: EventSyncerOptions,
): EventSyncer {
  return new EventSyncer(context, metrics, logger.child({ kind: METRIC_KIND }), options);
}

/**
 * Watched events carry timestamps as strings, listed and read ones as Dates: make them Dates, so
 * a host event compares equal to the virtual copy read back from the API.
 */
function normalizeEvent(event: CoreV1Event): CoreV1Event {
  const out = { ...event };
  for (const field of ['firstTimestamp', 'lastTimestamp'] as const) {
    const value = out[field] as unknown;
    if (typeof value === 'string') out[field] = new Date(value);
  }
  return out;
}
