import type { KubernetesObject, V1Ingress } from '@kubernetes/client-node';
import { DiscoveryV1Api } from '@kubernetes/client-node';
import { applyObject } from '../../kube/apply.ts';
import { ignoreNotFound, kubeClients } from '../../kube/client.ts';
import { PREVIEW_INGRESS_NAME } from '../deploy/expose.ts';
import { FIELD_MANAGER } from '../deploy/objects.ts';
import { hostLabel } from '../deploy/url.ts';
import { annotations, labels } from '../provider.ts';
import {
  appBackends,
  asleepIngress,
  awakeIngress,
  type IngressBackendRef,
  readyEndpoint,
  WAKER_SERVICE,
  type WakerAddress,
  wakerObjects,
} from './route.ts';

/** A preview the waker found by a request's host name. */
export interface WakeTarget {
  /** The preview's host namespace. */
  namespace: string;
  /** Its marks (repository, pull request, installation), as on the namespace. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** What the namespace says: `running`, `paused`, … */
  state: string | undefined;
  /** The app backend the host name is served by (while it sleeps too). */
  backend: IngressBackendRef;
}

/**
 * Sleep and wake of a preview's URL in the host cluster (route.ts), and what the service's waker
 * reads there: the preview holding a host name, and a ready pod behind its app.
 */
export interface PreviewWakeAccess {
  /** Sends the preview's host name to the waker at `address`; a preview without an Ingress has nothing to send. */
  sleep(namespace: string, address: WakerAddress): Promise<void>;
  /**
   * Sends its host name to the app again, once the app has a ready pod (or `readyTimeoutMs` passed:
   * visitors meanwhile are the waker's, who holds them), and removes the waker's Service; an awake
   * preview stays as it is.
   */
  wake(namespace: string, readyTimeoutMs?: number): Promise<void>;
  /** The preview whose Ingress serves `host`, or undefined when none does. */
  find(host: string): Promise<WakeTarget | undefined>;
  /** A ready pod's address behind the target's backend, or undefined while there is none. */
  readyBackend(target: Pick<WakeTarget, 'namespace' | 'backend'>): Promise<WakerAddress | undefined>;
  /** The namespace's state annotation now. */
  state(namespace: string): Promise<string | undefined>;
}

export function previewWakeAccess(hostKubeconfig: string): PreviewWakeAccess {
  const host = kubeClients(hostKubeconfig);
  const discovery = host.config.makeApiClient(DiscoveryV1Api);

  const readIngress = async (namespace: string): Promise<V1Ingress | undefined> => {
    try {
      return await host.networking.readNamespacedIngress({ name: PREVIEW_INGRESS_NAME, namespace });
    } catch (error) {
      return ignoreNotFound(error);
    }
  };
  const apply = (object: object) => applyObject(host, object as KubernetesObject, FIELD_MANAGER);
  const readState = async (namespace: string) => {
    try {
      return (await host.core.readNamespace({ name: namespace })).metadata?.annotations?.[annotations.state];
    } catch (error) {
      return ignoreNotFound(error);
    }
  };

  const access: PreviewWakeAccess = {
    async sleep(namespace, address) {
      const ingress = await readIngress(namespace);
      if (!ingress) return;
      for (const object of wakerObjects(namespace, address)) await apply(object);
      await apply(asleepIngress(ingress));
    },

    async wake(namespace, readyTimeoutMs = 60_000) {
      const ingress = await readIngress(namespace);
      if (ingress) {
        const awake = awakeIngress(ingress);
        if (awake !== ingress) {
          const [backend] = appBackends(ingress);
          const until = Date.now() + readyTimeoutMs;
          while (backend && Date.now() < until && !(await access.readyBackend({ namespace, backend })))
            await new Promise((resolve) => setTimeout(resolve, 250));
          await apply(awake);
        }
      }
      await discovery
        .deleteNamespacedEndpointSlice({ name: WAKER_SERVICE, namespace })
        .catch((error: unknown) => ignoreNotFound(error));
      await host.core
        .deleteNamespacedService({ name: WAKER_SERVICE, namespace })
        .catch((error: unknown) => ignoreNotFound(error));
    },

    async find(requestHost) {
      const name = requestHost.toLowerCase();
      // The namespace's host label is a digest of the preview's host name (bring-up sets it).
      const namespaces = await host.core.listNamespace({
        labelSelector: `${labels.host}=${hostLabel(name)}`,
      });
      for (const namespace of namespaces.items) {
        const meta = namespace.metadata ?? {};
        if (!meta.name || meta.deletionTimestamp) continue;
        const ingress = await readIngress(meta.name);
        if (!ingress?.spec?.rules?.some((rule) => rule.host?.toLowerCase() === name)) continue;
        const [backend] = appBackends(ingress);
        if (!backend) continue;
        return {
          namespace: meta.name,
          labels: meta.labels ?? {},
          annotations: meta.annotations ?? {},
          state: meta.annotations?.[annotations.state],
          backend,
        };
      }
      return undefined;
    },

    async readyBackend({ namespace, backend }) {
      let service: Awaited<ReturnType<typeof host.core.readNamespacedService>>;
      try {
        service = await host.core.readNamespacedService({ name: backend.service, namespace });
      } catch (error) {
        return ignoreNotFound(error);
      }
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace,
        labelSelector: `kubernetes.io/service-name=${backend.service}`,
      });
      return readyEndpoint(service, slices.items, backend.port);
    },

    state: readState,
  };
  return access;
}
