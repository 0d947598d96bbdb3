import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  EventsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  NetworkingV1Api,
} from '@kubernetes/client-node';

/** The typed API clients of one cluster, made from one kubeconfig. */
export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  networking: NetworkingV1Api;
  events: EventsV1Api;
  coordination: CoordinationV1Api;
  objects: KubernetesObjectApi;
}

/** Loads a kubeconfig from its YAML text (not a path), so callers decide where it comes from. */
export function kubeConfigFromString(yaml: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(yaml);
  return config;
}

export function kubeClients(kubeconfig: string | KubeConfig): KubeClients {
  const config = typeof kubeconfig === 'string' ? kubeConfigFromString(kubeconfig) : kubeconfig;
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    networking: config.makeApiClient(NetworkingV1Api),
    events: config.makeApiClient(EventsV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    objects: KubernetesObjectApi.makeApiClient(config),
  };
}

/** The HTTP status of an error thrown by @kubernetes/client-node, if it carries one. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (error: unknown) => statusCodeOf(error) === 404;
export const isConflict = (error: unknown) => statusCodeOf(error) === 409;
export const isAlreadyExists = (error: unknown) => statusCodeOf(error) === 409;
