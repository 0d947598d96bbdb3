import type { KubernetesListObject, KubernetesObject, V1DeleteOptions } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClients } from '../../kube/client.ts';
import type { TranslateContext } from '../translate/context.ts';
import type { SyncedKind } from '../translate/metadata.ts';
import type { EventRecorder } from './event-recorder.ts';
import type { WorkQueue } from './work-queue.ts';

/** What every resource syncer gets: both clusters, the translation context, events and logs. */
export interface SyncContext {
  translate: TranslateContext;
  virtual: KubeClients;
  host: KubeClients;
  recorder: EventRecorder;
  logger: Logger;
  /** Queues a key of another kind (e.g. a pod queues the ConfigMaps it uses). */
  enqueue(kind: SyncedKind | 'Node', key: string): void;
  /** Reads another kind's virtual cache. */
  virtualCache<T extends KubernetesObject>(kind: SyncedKind): ObjectCache<T>;
  hostCache<T extends KubernetesObject>(kind: SyncedKind): ObjectCache<T>;
  /** Runs another kind's reconcile for one key now (e.g. the ConfigMaps a new pod needs on the host first). */
  reconcileNow(kind: SyncedKind, key: string): Promise<void>;
  /** Runs one phase of a reconcile and records its time (`vcluster_syncer_phase_seconds`). */
  timed<T>(kind: SyncedKind, phase: string, work: () => Promise<T>): Promise<T>;
}

export interface ObjectCache<T> {
  /** Whether the first list has filled the cache. */
  readonly hasSynced: boolean;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

/** What a reconcile did, for metrics and logs. */
export type SyncAction = 'none' | 'create' | 'update' | 'delete' | 'status' | 'skip';

/** The request of a typed client's `deleteNamespaced…` call, as the engine builds it. */
export interface HostDeleteRequest {
  name: string;
  namespace: string;
  body: V1DeleteOptions;
}

/** One kind's delete call on the host, e.g. `(host, request) => host.core.deleteNamespacedConfigMap(request)`. */
export type DeleteHost = (host: KubeClients, request: HostDeleteRequest) => Promise<unknown>;

/**
 * One synced kind, in vcluster's shape: a virtual object only → create on the host; both → update
 * down and status up; a managed host object only → delete it (or, for pods, the reverse).
 * A kind says only what differs: how its objects are listed, created, updated and deleted. The
 * controller builds both informers, finds the pair, checks ownership and calls one of these; every
 * delete of a host object goes through `deleteHostObject` (UID precondition, terminating and gone
 * objects left as they are).
 */
export interface ResourceSyncer<V extends KubernetesObject, H extends KubernetesObject = V> {
  kind: SyncedKind;
  apiVersion: string;
  /** The plural resource name (`configmaps`): where both informers watch. */
  resource: string;
  /** Lists the kind in every virtual namespace. */
  listVirtual(virtual: KubeClients): Promise<KubernetesListObject<V>>;
  /** Lists the kind in the host namespace, by the label only this virtual cluster's objects carry. */
  listHost(
    host: KubeClients,
    query: { namespace: string; labelSelector: string },
  ): Promise<KubernetesListObject<H>>;
  deleteHost: DeleteHost;
  /** Whether this virtual object should exist on the host (ConfigMaps only while used, …). Default: yes. */
  shouldSync?(context: SyncContext, virtualObject: V): boolean;
  /**
   * The kinds whose virtual caches `shouldSync` reads to find this object used (a ConfigMap: pods).
   * While one of those caches is still being filled, no host copy is deleted as unused.
   */
  usedBy?: readonly SyncedKind[];
  /** Objects the syncer leaves alone in the virtual cluster (e.g. `default/kubernetes`). */
  ignoreVirtual?(virtualObject: V): boolean;
  /** Whether a host object whose `object-uid` differs is deleted and recreated (not for Services and PVCs). */
  recreateOnUidChange?: boolean;
  syncToHost(context: SyncContext, virtualObject: V): Promise<SyncAction>;
  sync(context: SyncContext, virtualObject: V, hostObject: H): Promise<SyncAction>;
  /** The host object has no virtual twin. Default: delete it. */
  hostOnly?(context: SyncContext, hostObject: H): Promise<SyncAction>;
  /** Called for every virtual event, to queue keys of other kinds that depend on this object. */
  onVirtualEvent?(context: SyncContext, virtualObject: V): void;
}

/** A host object exists under the name we need but is not ours: reported, retried, never touched. */
export class HostNameTakenError extends Error {
  override name = 'HostNameTakenError';
}

/** Requeue the key after a delay without counting it as a failure (a conflict, a cache lag). */
export class RequeueAfter extends Error {
  override name = 'RequeueAfter';
  constructor(
    readonly delayMs: number,
    message = 'requeue',
  ) {
    super(message);
  }
}

/**
 * What the Syncer runs: a resource controller, the fake-node syncer, the event syncer. Informers
 * of all of them are filled before any worker starts.
 */
export interface SyncLoop {
  readonly queue: WorkQueue;
  readonly hasSynced: boolean;
  startInformers(): Promise<void>;
  startWorkers(): void;
  stop(): Promise<void>;
}
