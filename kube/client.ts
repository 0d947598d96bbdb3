import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import type { AgentOptions } from 'node:https';
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

/**
 * client-node 1.x makes a new https.Agent for every request, so every call pays a TLS handshake.
 * This KubeConfig keeps one keep-alive agent per cluster and user instead; the options that
 * shape the agent (CA, client certificate) are the same for every request of one kubeconfig.
 */
class PooledKubeConfig extends KubeConfig {
  readonly agents = new Map<string, Agent>();
}

type CreateAgent = (cluster: { server?: string } | null, options: AgentOptions) => Agent;
const createAgent = (KubeConfig.prototype as unknown as { createAgent: CreateAgent }).createAgent;
(PooledKubeConfig.prototype as unknown as { createAgent: CreateAgent }).createAgent = function (
  this: PooledKubeConfig,
  cluster,
  options,
) {
  const key = `${cluster?.server}|${this.getCurrentUser()?.name}`;
  let agent = this.agents.get(key);
  if (!agent) {
    agent = createAgent.call(this, cluster, { ...options, keepAlive: true });
    this.agents.set(key, agent);
  }
  return agent;
};

/** Loads a kubeconfig from its YAML text (not a path), so callers decide where it comes from. */
export function kubeConfigFromString(yaml: string): KubeConfig {
  const config = new PooledKubeConfig();
  config.loadFromString(yaml);
  return config;
}

/** Loads a kubeconfig file, or the default (in-cluster, KUBECONFIG, ~/.kube/config) without a path. */
export function kubeConfigFromFile(path?: string): KubeConfig {
  const config = new PooledKubeConfig();
  if (path) config.loadFromFile(path);
  else config.loadFromDefault();
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

/** The PEM of the CA a kubeconfig trusts for its current cluster (inline or from its file), if it names one. */
export function clusterCertificateAuthority(config: KubeConfig): string | undefined {
  const cluster = config.getCurrentCluster();
  if (cluster?.caData) return Buffer.from(cluster.caData, 'base64').toString('utf8');
  if (cluster?.caFile) return readFileSync(cluster.caFile, 'utf8');
  return undefined;
}

/** The HTTP status of an error thrown by @kubernetes/client-node (`code`) or by kube/apply.ts (`statusCode`). */
export function statusCodeOf(error: unknown): number | undefined {
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/** The API server's Status of an error (its JSON body), when it sent one. */
function apiStatusOf(error: unknown): { message?: unknown; reason?: unknown } | undefined {
  const body = (error as { body?: unknown } | undefined)?.body;
  if (typeof body !== 'string') return typeof body === 'object' && body !== null ? body : undefined;
  try {
    return JSON.parse(body) as { message?: unknown; reason?: unknown };
  } catch {
    return undefined;
  }
}

/**
 * A 409 with the Status reason `reason`; a 409 without a readable Status counts as either, as the
 * API server sends both reasons with that one code (a create of what exists: AlreadyExists; an
 * update against a stale version or a failed precondition: Conflict).
 */
const is409 = (error: unknown, reason: 'AlreadyExists' | 'Conflict') => {
  if (statusCodeOf(error) !== 409) return false;
  const said = apiStatusOf(error)?.reason;
  return typeof said !== 'string' || said === '' || said === reason;
};

export const isNotFound = (error: unknown) => statusCodeOf(error) === 404;
export const isForbidden = (error: unknown) => statusCodeOf(error) === 403;
/** A create of what exists already. */
export const isAlreadyExists = (error: unknown) => is409(error, 'AlreadyExists');
/** An update that lost a race or a failed precondition (resourceVersion, UID). */
export const isConflict = (error: unknown) => is409(error, 'Conflict');

/** For `.catch(ignoreNotFound)` and `catch` blocks: a 404 becomes undefined, any other error is thrown on. */
export function ignoreNotFound(error: unknown): undefined {
  if (isNotFound(error)) return undefined;
  throw error;
}

/** The message of anything thrown: an Error's own, anything else as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What the API server said, in its own words: the Status `message` of an error thrown by
 * @kubernetes/client-node (whose `message` is the whole response: code, body and headers), or the
 * message of any other error.
 */
export function apiErrorMessage(error: unknown): string {
  const message = apiStatusOf(error)?.message;
  if (typeof message === 'string' && message) return message;
  return messageOf(error);
}

/** Whether reading an object answers 404 (any other error is thrown): for waiting until it is deleted. */
export async function isGone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (error) {
    ignoreNotFound(error);
    return true;
  }
}
