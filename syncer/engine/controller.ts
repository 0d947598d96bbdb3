import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  apiErrorMessage,
  ignoreNotFound,
  isAlreadyExists,
  isConflict,
  isNotFound,
} from '../../kube/client.ts';
import { fencedAnnotationsOf } from '../translate/annotation-fence.ts';
import { isManagedBy, UID_ANNOTATION, virtualKeyOf } from '../translate/metadata.ts';
import { hostName } from '../translate/names.ts';
import { deleteHostObject } from './delete-host-object.ts';
import { HOST_QUOTA_EXCEEDED_REASON, hostQuotaMessage } from './host-quota.ts';
import { Informer } from './informer.ts';
import { informerSources } from './informer-sources.ts';
import type { SyncerMetrics } from './metrics.ts';
import {
  HostNameTakenError,
  RequeueAfter,
  type ResourceSyncer,
  type SyncAction,
  type SyncContext,
  type SyncLoop,
} from './resource-syncer.ts';
import { WorkQueue } from './work-queue.ts';

/** Our host twin exists though our cache did not show it: look again once the cache has it. */
class HostObjectAppeared extends RequeueAfter {
  override name = 'HostObjectAppeared';
}

/** Event reason when annotations of a virtual object were left out of its host object. */
export const ANNOTATIONS_DROPPED_REASON = 'AnnotationsDropped';

export interface ControllerOptions {
  workers: number;
  metrics: SyncerMetrics;
  logger: Logger;
}

export const keyOf = (namespace: string | undefined, name: string | undefined) =>
  `${namespace ?? ''}/${name ?? ''}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * Runs one resource syncer: an informer on each side, one keyed queue of virtual keys fed by
 * both, and workers that reconcile each key from the two caches.
 */
export class Controller<V extends KubernetesObject, H extends KubernetesObject> implements SyncLoop {
  readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 30_000 });
  readonly virtualInformer: Informer<V>;
  readonly hostInformer: Informer<H>;
  private readonly logger: Logger;
  private workers: Promise<void>[] = [];
  /** `ensureOnHost` calls in flight, by key: a burst of pods that name one ConfigMap creates it once. */
  private readonly ensuring = new Map<string, Promise<void>>();

  constructor(
    readonly syncer: ResourceSyncer<V, H>,
    private readonly context: SyncContext,
    private readonly options: ControllerOptions,
  ) {
    this.logger = options.logger.child({ kind: syncer.kind });
    const sources = informerSources(syncer, context);
    const onError = (informer: string) => () => options.metrics.watchErrors.inc({ informer });
    this.virtualInformer = new Informer<V>({
      name: `virtual/${syncer.kind}`,
      config: context.virtual.config,
      ...sources.virtual,
      logger: this.logger,
      onError: onError(`virtual/${syncer.kind}`),
      onEvent: (event, object) => {
        if (syncer.ignoreVirtual?.(object)) return;
        const { namespace, name } = object.metadata ?? {};
        const key = keyOf(namespace, name);
        // A new object without a host twin yet: creating it goes before updates of existing pairs.
        const fresh =
          event === 'add' &&
          !this.hostInformer.get(
            hostName(name ?? '', namespace ?? '', context.translate.vclusterName),
            context.translate.hostNamespace,
          );
        if (fresh) this.queue.addUrgent(key);
        else this.queue.add(key);
        syncer.onVirtualEvent?.(context, object);
      },
    });
    this.hostInformer = new Informer<H>({
      name: `host/${syncer.kind}`,
      config: context.host.config,
      ...sources.host,
      logger: this.logger,
      onError: onError(`host/${syncer.kind}`),
      onEvent: (_event, object) => {
        const key = virtualKeyOf(object);
        if (key) this.queue.add(keyOf(key.namespace, key.name));
      },
    });
  }

  /** Fills both caches; resolves once both are listed. */
  async startInformers(): Promise<void> {
    await Promise.all([this.virtualInformer.start(), this.hostInformer.start()]);
  }

  /**
   * Starts the workers. Called only once every kind's caches are filled, so no reconcile judges
   * "unused" or "orphaned" from a cache that is still empty.
   */
  startWorkers(): void {
    // A restart converges: every object on either side is looked at once.
    for (const object of this.virtualInformer.list()) {
      if (!this.syncer.ignoreVirtual?.(object))
        this.queue.add(keyOf(object.metadata?.namespace, object.metadata?.name));
    }
    for (const object of this.hostInformer.list()) {
      const key = virtualKeyOf(object);
      if (key) this.queue.add(keyOf(key.namespace, key.name));
    }
    for (let i = 0; i < this.options.workers; i++) this.workers.push(this.work());
  }

  get hasSynced(): boolean {
    return this.virtualInformer.hasSynced && this.hostInformer.hasSynced;
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.virtualInformer.stop(), this.hostInformer.stop()]);
    await Promise.all(this.workers);
    this.workers = [];
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * Reconciles one key now, for an object another kind needs on the host first (a pod's ConfigMaps).
   * Concurrent calls for one key share one reconcile; a host twin that another call created
   * meanwhile (our cache not showing it yet) counts as there, and the worker looks at it again.
   */
  ensureOnHost(key: string): Promise<void> {
    let running = this.ensuring.get(key);
    if (!running) {
      running = this.reconcile(key).then(
        () => undefined,
        (error: unknown) => {
          if (!(error instanceof HostObjectAppeared)) throw error;
          this.queue.add(key);
        },
      );
      running = running.finally(() => this.ensuring.delete(key));
      this.ensuring.set(key, running);
    }
    return running;
  }

  private async work(): Promise<void> {
    const { metrics } = this.options;
    const kind = this.syncer.kind;
    for (;;) {
      metrics.queueDepth.set({ kind }, this.queue.depth);
      const item = await this.queue.get();
      if (!item) return;
      const waitedSeconds = (Date.now() - item.queuedAt) / 1000;
      const started = performance.now();
      try {
        const action = await this.reconcile(item.key);
        const reconcileSeconds = (performance.now() - started) / 1000;
        this.queue.forget(item.key);
        if (action !== 'none' && action !== 'skip') metrics.syncs.inc({ kind, action });
        metrics.syncLatency.observe({ kind }, (Date.now() - item.queuedAt) / 1000);
        // By action, so a new pod's wait is told apart from that of its status updates.
        metrics.phaseSeconds.observe({ kind, phase: 'queue', action }, waitedSeconds);
        metrics.phaseSeconds.observe({ kind, phase: 'reconcile', action }, reconcileSeconds);
      } catch (error) {
        this.handleError(item.key, error);
      } finally {
        this.queue.done(item.key);
      }
    }
  }

  private handleError(key: string, error: unknown): void {
    if (error instanceof RequeueAfter) {
      this.queue.addAfter(key, error.delayMs);
      return;
    }
    if (isConflict(error) || isAlreadyExists(error) || isNotFound(error)) {
      // Our cache was behind the API server: look again shortly, as vcluster does.
      this.queue.addAfter(key, 1000);
      return;
    }
    this.options.metrics.errors.inc({ kind: this.syncer.kind });
    const delay = this.queue.addRateLimited(key);
    const reason = apiErrorMessage(error);
    // A full host quota is the preview's own doing (a flood, too many replicas), not the syncer's.
    const quota = hostQuotaMessage(reason, this.syncer.kind);
    const level = error instanceof HostNameTakenError || quota ? 'info' : 'warn';
    this.logger[level]({ key, reason, err: error, retryInMs: delay }, 'sync failed');
    const { namespace, name } = splitKey(key);
    const virtualObject = this.virtualInformer.get(name, namespace);
    if (virtualObject) {
      void this.context.recorder.warning(
        this.withKind(virtualObject),
        quota ? HOST_QUOTA_EXCEEDED_REASON : 'SyncError',
        quota ?? reason,
      );
    }
  }

  /** Reconciles one virtual key against its host twin. Exported through `reconcileNow` for dependencies. */
  async reconcile(key: string): Promise<SyncAction> {
    const { syncer, context } = this;
    const { namespace, name } = splitKey(key);
    const translate = context.translate;
    const virtualObject = this.virtualInformer.get(name, namespace);
    const hostObjectName = hostName(name, namespace, translate.vclusterName);
    let hostObject = this.hostInformer.get(hostObjectName, translate.hostNamespace);
    if (hostObject && !isManagedBy(hostObject, translate, syncer.kind)) hostObject = undefined;

    if (virtualObject && syncer.ignoreVirtual?.(virtualObject)) return 'skip';
    if (virtualObject && (syncer.shouldSync?.(context, virtualObject) ?? true)) {
      this.reportFencedAnnotations(virtualObject);
      if (!hostObject) return this.createOnHost(virtualObject, hostObjectName);
      const hostUid = hostObject.metadata?.annotations?.[UID_ANNOTATION];
      if (syncer.recreateOnUidChange !== false && hostUid && hostUid !== virtualObject.metadata?.uid) {
        // The name was reused for a new virtual object: the old host object must not come back.
        await this.deleteFromHost(hostObject);
        throw new RequeueAfter(200, 'host object belonged to an earlier virtual object');
      }
      return syncer.sync(context, virtualObject, hostObject);
    }
    if (hostObject) {
      if (!virtualObject && syncer.hostOnly) return syncer.hostOnly(context, hostObject);
      return this.deleteFromHost(hostObject);
    }
    return 'none';
  }

  /** Says on the virtual object which of its annotations stay off the host (hostMetadata leaves them out). */
  private reportFencedAnnotations(virtualObject: V): void {
    const fenced = fencedAnnotationsOf(
      virtualObject.metadata?.annotations,
      this.context.translate.allowedAnnotations,
    );
    if (fenced.length === 0) return;
    void this.context.recorder.warning(
      this.withKind(virtualObject),
      ANNOTATIONS_DROPPED_REASON,
      `${fenced.join(', ')} left out on the host: ingress controller, load balancer, DNS and certificate annotations steer the operator's shared machinery (the operator may allow some with --allow-annotations)`,
    );
  }

  /**
   * Deletes a host object whose virtual twin is gone or no longer wants it. Usage is read from other
   * kinds' caches: while one is still being filled (syncer start), "nothing uses it" means nothing yet.
   */
  private async deleteFromHost(hostObject: H): Promise<SyncAction> {
    for (const kind of this.syncer.usedBy ?? []) {
      if (!this.context.virtualCache(kind).hasSynced)
        throw new RequeueAfter(500, `virtual ${kind} cache not filled yet`);
    }
    return deleteHostObject(this.context, hostObject, this.syncer.deleteHost);
  }

  private async createOnHost(virtualObject: V, hostObjectName: string): Promise<SyncAction> {
    try {
      return await this.syncer.syncToHost(this.context, virtualObject);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      // Either our cache lags, or someone else's object holds the name.
      const existing = await this.readHost(hostObjectName);
      if (existing && !isManagedBy(existing, this.context.translate, this.syncer.kind)) {
        throw new HostNameTakenError(
          `host ${this.syncer.kind} ${this.context.translate.hostNamespace}/${hostObjectName} exists and is not managed by vcluster ${this.context.translate.vclusterName}; it is left alone. Rename or remove it on the host.`,
        );
      }
      throw new HostObjectAppeared(200, 'host object appeared meanwhile');
    }
  }

  private async readHost(name: string): Promise<KubernetesObject | undefined> {
    return this.context.host.objects
      .read({
        apiVersion: this.syncer.apiVersion,
        kind: this.syncer.kind,
        metadata: { name, namespace: this.context.translate.hostNamespace },
      })
      .catch(ignoreNotFound);
  }

  private withKind<T extends KubernetesObject>(object: T): T {
    return { ...object, kind: this.syncer.kind, apiVersion: this.syncer.apiVersion };
  }
}
