import type { CoreV1Api, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export const syncerComponent = 'vcluster-syncer';

/**
 * Records Kubernetes events on virtual objects, so a user sees with `kubectl describe` why an
 * object did not sync. The same message for the same object is recorded once per window.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly logger: Logger,
    private readonly windowMs = 60_000,
  ) {}

  async warning(object: KubernetesObject, reason: string, message: string): Promise<void> {
    await this.record(object, 'Warning', reason, message);
  }

  async normal(object: KubernetesObject, reason: string, message: string): Promise<void> {
    await this.record(object, 'Normal', reason, message);
  }

  private async record(
    object: KubernetesObject,
    type: string,
    reason: string,
    message: string,
  ): Promise<void> {
    const meta = object.metadata ?? {};
    const key = `${meta.uid}|${reason}|${message}`;
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now - this.windowMs) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000) this.recent.clear();
    const timestamp = new Date(now);
    try {
      await this.core.createNamespacedEvent({
        namespace: meta.namespace ?? 'default',
        body: {
          metadata: { generateName: `${meta.name}.`, namespace: meta.namespace ?? 'default' },
          involvedObject: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            resourceVersion: meta.resourceVersion,
          },
          reason,
          message,
          type,
          source: { component: syncerComponent },
          firstTimestamp: timestamp,
          lastTimestamp: timestamp,
          count: 1,
        },
      });
    } catch (error) {
      // An event is best effort: the object may be gone already.
      this.logger.debug({ err: error, reason }, 'could not record event');
    }
  }
}
