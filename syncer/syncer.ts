import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { type Logger, pino } from 'pino';
import { clusterCertificateAuthority, type KubeClients, kubeClients } from '../kube/client.ts';
import { Controller } from './engine/controller.ts';
import { EventRecorder } from './engine/event-recorder.ts';
import { SyncerMetrics, timePhase } from './engine/metrics.ts';
import type { ObjectCache, ResourceSyncer, SyncContext, SyncLoop } from './engine/resource-syncer.ts';
import { type EventSyncer, eventSyncerFor } from './kinds/events.ts';
import { defaultResourceSyncers } from './kinds/index.ts';
import { NodeSyncer } from './kinds/nodes.ts';
import { KubeletServer } from './kubelet/server.ts';
import type { PodSecurityLevel } from './policy/pod-security.ts';
import type { VolumeFenceOptions } from './policy/volume-fence.ts';
import type { ExposingServiceType, TranslateContext } from './translate/context.ts';
import type { SyncedKind } from './translate/metadata.ts';

export interface SyncerOptions {
  /** The virtual cluster's name: part of every host name. */
  name: string;
  /** The one host namespace the virtual cluster's objects go to. */
  hostNamespace: string;
  /** Host and virtual cluster access: a KubeConfig, or kubeconfig YAML. */
  host: KubeConfig | string;
  virtual: KubeConfig | string;
  /** Ingress hosts must be this domain or below it (e.g. `pr-12.preview.example.com`). */
  allowedHostSuffix?: string;
  /** IngressClass of every host Ingress (the operator's); unset, the host's default class. */
  ingressClassName?: string;
  /**
   * Service types beyond ClusterIP allowed on the host (default none: NodePort and LoadBalancer
   * services are synced as ClusterIP, with an event). ExternalName services never sync.
   */
  allowedServiceTypes?: readonly ExposingServiceType[];
  /** Annotations the host's controllers act on that may reach the host (translate/annotation-fence.ts); default none. */
  allowedAnnotations?: readonly string[];
  /** Concurrent reconciles per kind (default 16). */
  workers?: number;
  logger?: Logger;
  /** Host service account for synced pods. */
  workloadServiceAccount?: string;
  /**
   * Pod Security Standard enforced on virtual pods before they reach the host (default:
   * privileged, no checks; the CLI defaults to baseline like vcluster's chart).
   */
  podSecurityStandard?: PodSecurityLevel;
  /** CSI drivers and storage classes pods and claims may use on the host (policy/volume-fence.ts). */
  volumeFence?: VolumeFenceOptions;
  /** Extra translation facts (DNS service IP, API service IP, owner). */
  translate?: Partial<TranslateContext>;
  /**
   * Serve the fake nodes' kubelet API, as vcluster's syncer does: `kubectl logs`, `exec`, `attach`
   * and `port-forward` on a virtual pod reach its host pod. The fake nodes advertise
   * `advertiseAddress` as InternalIP and the port as kubelet port, so the virtual API server must be
   * started with `--kubelet-preferred-address-types=InternalIP` and `--kubelet-client-certificate`
   * / `--kubelet-client-key` of a certificate `clientCA` signed.
   */
  kubelet?: KubeletOptions;
  /** The kinds to sync (default: all). */
  resourceSyncers?: ResourceSyncer<KubernetesObject, KubernetesObject>[];
}

export interface KubeletOptions {
  /** The address the fake nodes advertise (their InternalIP): where the virtual API server reaches this process. */
  advertiseAddress: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Where to listen (default: the advertised address). */
  bindAddress?: string;
  /** PEM of the CA of accepted client certificates (default: the CA of the virtual kubeconfig). */
  clientCA?: string;
  /** Serving certificate and key (PEM); default: a self-signed one. */
  tls?: { cert: string; key: string };
}

/**
 * The sync engine between one virtual cluster and one host namespace: a controller per kind plus
 * fake nodes. `start()` resolves once every cache is filled and the workers run.
 */
export class Syncer {
  readonly metrics = new SyncerMetrics();
  readonly logger: Logger;
  readonly host: KubeClients;
  readonly virtual: KubeClients;
  readonly translate: TranslateContext;
  readonly controllers = new Map<SyncedKind, Controller<KubernetesObject, KubernetesObject>>();
  readonly nodes: NodeSyncer;
  readonly events: EventSyncer;
  readonly context: SyncContext;
  /** The fake nodes' kubelet API, when `kubelet` was given. */
  readonly kubelet: KubeletServer | undefined;
  private started = false;

  constructor(options: SyncerOptions) {
    this.logger = (options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' })).child({
      vcluster: options.name,
      hostNamespace: options.hostNamespace,
    });
    this.host = kubeClients(options.host);
    this.virtual = kubeClients(options.virtual);
    this.translate = {
      vclusterName: options.name,
      hostNamespace: options.hostNamespace,
      allowedHostSuffix: options.allowedHostSuffix,
      ingressClassName: options.ingressClassName,
      allowedServiceTypes: options.allowedServiceTypes,
      allowedAnnotations: options.allowedAnnotations,
      ...options.translate,
    };
    this.context = {
      translate: this.translate,
      virtual: this.virtual,
      host: this.host,
      recorder: new EventRecorder(this.virtual.core, this.logger),
      logger: this.logger,
      enqueue: (kind, key) => {
        if (kind === 'Node') this.nodes.enqueue(key);
        else this.controllers.get(kind)?.enqueue(key);
      },
      virtualCache: <T extends KubernetesObject>(kind: SyncedKind) =>
        (this.controllers.get(kind)?.virtualInformer ?? emptyCache) as unknown as ObjectCache<T>,
      hostCache: <T extends KubernetesObject>(kind: SyncedKind) =>
        (this.controllers.get(kind)?.hostInformer ?? emptyCache) as unknown as ObjectCache<T>,
      reconcileNow: async (kind, key) => {
        await this.controllers.get(kind)?.ensureOnHost(key);
      },
      timed: (kind, phase, work) => timePhase(this.metrics, kind, phase, work),
    };
    const context = this.context;
    const syncers =
      options.resourceSyncers ??
      defaultResourceSyncers({
        workloadServiceAccount: options.workloadServiceAccount,
        podSecurityStandard: options.podSecurityStandard,
        volumeFence: options.volumeFence,
      });
    for (const syncer of syncers) {
      this.controllers.set(
        syncer.kind,
        new Controller(syncer, context, {
          workers: options.workers ?? 16,
          metrics: this.metrics,
          logger: this.logger,
        }),
      );
    }
    const pods = this.controllers.get('Pod');
    if (options.kubelet) {
      const clientCA = options.kubelet.clientCA ?? clusterCertificateAuthority(this.virtual.config);
      if (!clientCA)
        throw new Error(
          'the kubelet API needs the CA of the virtual API server’s kubelet client certificate: the virtual kubeconfig names none, pass it',
        );
      this.kubelet = new KubeletServer({
        vclusterName: options.name,
        hostNamespace: options.hostNamespace,
        host: this.host,
        virtual: this.virtual,
        virtualPods: (pods?.virtualInformer ?? emptyCache) as never,
        hostPods: (pods?.hostInformer ?? emptyCache) as never,
        clientCA,
        advertiseAddress: options.kubelet.advertiseAddress,
        bindAddress: options.kubelet.bindAddress,
        port: options.kubelet.port ?? 0,
        tls: options.kubelet.tls,
        logger: this.logger,
      });
    }
    const kubelet = this.kubelet;
    this.nodes = new NodeSyncer(
      this.virtual,
      (pods?.virtualInformer ?? emptyCache) as never,
      this.metrics,
      this.logger,
      () => (kubelet?.port ? { address: kubelet.advertiseAddress, port: kubelet.port } : undefined),
    );
    this.events = eventSyncerFor(context, this.metrics, this.logger);
  }

  private get loops(): SyncLoop[] {
    return [...this.controllers.values(), this.nodes, this.events];
  }

  async start(): Promise<void> {
    const started = Date.now();
    // Listening before the first fake node is made, so that it advertises the port.
    await this.kubelet?.start();
    await Promise.all(this.loops.map((loop) => loop.startInformers()));
    for (const loop of this.loops) loop.startWorkers();
    this.started = true;
    this.logger.info({ ms: Date.now() - started, kinds: [...this.controllers.keys()] }, 'syncer started');
  }

  /** Ready once every informer has listed both sides. */
  get ready(): boolean {
    return this.started && this.loops.every((loop) => loop.hasSynced);
  }

  async stop(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.stop()));
    await this.kubelet?.stop();
    this.started = false;
  }

  /** Total keys waiting across all kinds (tests and benchmarks wait for 0). */
  get queueDepth(): number {
    return this.loops.reduce((depth, loop) => depth + loop.queue.depth, 0);
  }
}

const emptyCache: ObjectCache<never> = { hasSynced: true, get: () => undefined, list: () => [] };
