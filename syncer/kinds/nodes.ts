import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isAlreadyExists, isConflict, isNotFound, type KubeClients } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import { Informer } from '../engine/informer.ts';
import type { SyncerMetrics } from '../engine/metrics.ts';
import type { ObjectCache, SyncLoop } from '../engine/resource-syncer.ts';
import { WorkQueue } from '../engine/work-queue.ts';
import { fakeNode, fakeNodeEndpointPatch, isFakeNode, type KubeletEndpoint } from '../translate/node.ts';

/**
 * Fake virtual nodes: one per host node that runs a synced pod (same name), so virtual pods
 * can be bound to it; removed once no virtual pod uses it.
 */
export class NodeSyncer implements SyncLoop {
  readonly queue = new WorkQueue();
  readonly informer: Informer<V1Node>;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly virtual: KubeClients,
    private readonly virtualPods: ObjectCache<V1Pod>,
    private readonly metrics: SyncerMetrics,
    private readonly logger: Logger,
    /** Where the fake nodes' kubelet API is served (the syncer's kubelet server), once it listens. */
    private readonly kubelet: () => KubeletEndpoint | undefined = () => undefined,
  ) {
    this.informer = new Informer<V1Node>({
      name: 'virtual/Node',
      config: virtual.config,
      path: '/api/v1/nodes',
      list: () => virtual.core.listNode(),
      logger,
      onError: () => metrics.watchErrors.inc({ informer: 'virtual/Node' }),
      onEvent: (_event, node) => this.queue.add(node.metadata?.name ?? ''),
    });
  }

  async startInformers(): Promise<void> {
    await this.informer.start();
  }

  startWorkers(): void {
    for (const node of this.informer.list()) this.queue.add(node.metadata?.name ?? '');
    this.workers.push(this.work(), this.work());
  }

  get hasSynced(): boolean {
    return this.informer.hasSynced;
  }

  enqueue(nodeName: string): void {
    this.queue.add(nodeName);
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.informer.stop();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      this.metrics.queueDepth.set({ kind: 'Node' }, this.queue.depth);
      const item = await this.queue.get();
      if (!item) return;
      try {
        await this.reconcile(item.key);
        this.queue.forget(item.key);
        this.metrics.syncLatency.observe({ kind: 'Node' }, (Date.now() - item.queuedAt) / 1000);
      } catch (error) {
        if (isConflict(error) || isAlreadyExists(error) || isNotFound(error))
          this.queue.addAfter(item.key, 1000);
        else {
          this.metrics.errors.inc({ kind: 'Node' });
          this.logger.warn({ node: item.key, err: error }, 'node sync failed');
          this.queue.addRateLimited(item.key);
        }
      } finally {
        this.queue.done(item.key);
      }
    }
  }

  private async reconcile(name: string): Promise<void> {
    const used = this.virtualPods.list().some((pod) => pod.spec?.nodeName === name);
    const existing = this.informer.get(name);
    const kubelet = this.kubelet();
    if (used && !existing) {
      const node = fakeNode(name, {
        now: new Date(),
        kubeletVersion: 'v1.36.3',
        ...(kubelet ? { internalIP: kubelet.address, kubeletPort: kubelet.port } : {}),
      });
      await this.virtual.core.createNode({ body: { ...node, status: undefined } });
      await this.virtual.core.patchNodeStatus({ name, body: { status: node.status } }, mergePatch);
      this.metrics.syncs.inc({ kind: 'Node', action: 'create' });
    } else if (used && existing && isFakeNode(existing) && kubelet) {
      // A restarted syncer may serve the kubelet API elsewhere: the API server must dial the new place.
      const status = fakeNodeEndpointPatch(existing, kubelet);
      if (status) {
        await this.virtual.core.patchNodeStatus({ name, body: { status } }, mergePatch);
        this.metrics.syncs.inc({ kind: 'Node', action: 'update' });
      }
    } else if (!used && existing && isFakeNode(existing)) {
      await this.virtual.core.deleteNode({ name });
      this.metrics.syncs.inc({ kind: 'Node', action: 'delete' });
    }
  }
}
