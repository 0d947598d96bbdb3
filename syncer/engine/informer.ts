import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and metrics, e.g. `virtual/pods`. */
  name: string;
  config: KubeConfig;
  /** The watch path, e.g. `/api/v1/pods` or `/api/v1/namespaces/ns/pods`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  logger: Logger;
  onEvent: (event: InformerEvent, object: T) => void;
  /** Called after every failed list or watch, for metrics. */
  onError?: (error: unknown) => void;
}

/**
 * A cache of one kind kept current by list + watch (client-node's ListWatch: resourceVersion
 * carried between watches, relist on 410 Gone), restarted with backoff when a list or watch fails,
 * so a broken connection or a restarted API server is recovered from without losing events.
 */
export class Informer<T extends KubernetesObject> {
  private readonly listWatch: ListWatch<T>;
  private stopped = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private synced = false;

  constructor(private readonly options: InformerOptions<T>) {
    this.listWatch = new ListWatch<T>(
      options.path,
      new Watch(options.config),
      options.list,
      false,
      options.labelSelector,
    );
    this.listWatch.on('add', (object) => options.onEvent('add', object));
    this.listWatch.on('update', (object) => options.onEvent('update', object));
    this.listWatch.on('delete', (object) => options.onEvent('delete', object));
    this.listWatch.on('connect', () => {
      this.failures = 0;
    });
    this.listWatch.on('error', (error) => this.restartAfterError(error));
  }

  /** Resolves once the first list has filled the cache. */
  async start(): Promise<void> {
    this.stopped = false;
    for (;;) {
      try {
        await this.listWatch.start();
        if (this.listWatch.latestResourceVersion() !== '') break;
      } catch (error) {
        this.options.onError?.(error);
      }
      // A failed first list was reported through the error handler; wait and try again.
      if (this.stopped) return;
      await new Promise((resolve) => setTimeout(resolve, this.nextDelay()));
    }
    this.synced = true;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.listWatch.stop();
  }

  private restartAfterError(error: unknown): void {
    this.options.onError?.(error);
    if (this.stopped || !this.synced) return;
    const delay = this.nextDelay();
    this.options.logger.warn(
      { informer: this.options.name, err: error, retryInMs: delay },
      'list/watch failed; restarting',
    );
    this.restartTimer = setTimeout(() => {
      if (!this.stopped) void this.listWatch.start().catch((err) => this.restartAfterError(err));
    }, delay);
  }

  private nextDelay(): number {
    this.failures++;
    return Math.min(100 * 2 ** Math.min(this.failures, 8), 10_000);
  }
}
