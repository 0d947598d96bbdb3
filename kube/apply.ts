import { request } from 'node:https';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClients } from './client.ts';

export class ApplyError extends Error {
  override name = 'ApplyError';
  constructor(
    message: string,
    readonly statusCode: number,
    readonly object: KubernetesObject,
  ) {
    super(message);
  }
}

/**
 * Server-side apply of each object, owned by `fieldManager` (conflicts forced: we are the owner).
 * The JSON goes to the API server as it is: client-node's typed serializer would drop fields its
 * models spell differently (a LimitRange's `default`) or do not know (newer fields, CRD schemas).
 */
export async function applyObjects(
  clients: KubeClients,
  objects: KubernetesObject[],
  fieldManager: string,
): Promise<KubernetesObject[]> {
  const applied: KubernetesObject[] = [];
  for (const object of objects) applied.push(await applyObject(clients, object, fieldManager));
  return applied;
}

export async function applyObject(
  clients: KubeClients,
  object: KubernetesObject,
  fieldManager: string,
): Promise<KubernetesObject> {
  const path = await objectPath(clients, object);
  const query = `?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
  const { status, body } = await rawRequest(
    clients,
    'PATCH',
    `${path}${query}`,
    JSON.stringify(object),
    'application/apply-patch+yaml',
  );
  if (status >= 300) {
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // Not a Status object.
    }
    throw new ApplyError(
      `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}: ${message}`,
      status,
      object,
    );
  }
  return JSON.parse(body) as KubernetesObject;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const discovery = new WeakMap<object, Map<string, Promise<ApiResource[]>>>();

/** The resources of one group version, asked once per kubeconfig (a CRD's group is asked again while missing). */
async function resourcesOf(clients: KubeClients, apiVersion: string): Promise<ApiResource[]> {
  let cache = discovery.get(clients.config);
  if (!cache) {
    cache = new Map();
    discovery.set(clients.config, cache);
  }
  let pending = cache.get(apiVersion);
  if (!pending) {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    pending = rawRequest(clients, 'GET', path).then(({ status, body }) =>
      status === 200 ? ((JSON.parse(body) as { resources: ApiResource[] }).resources ?? []) : [],
    );
    cache.set(apiVersion, pending);
  }
  const resources = await pending;
  if (resources.length === 0) cache.delete(apiVersion);
  return resources;
}

/** The REST path of an object, its resource name found by discovery. */
export async function objectPath(clients: KubeClients, object: KubernetesObject): Promise<string> {
  const apiVersion = object.apiVersion ?? '';
  const kind = object.kind ?? '';
  const find = async () =>
    (await resourcesOf(clients, apiVersion)).find((r) => r.kind === kind && !r.name.includes('/'));
  let resource = await find();
  if (!resource) {
    // A CRD may have added the kind to a group already asked about: ask again once.
    discovery.get(clients.config)?.delete(apiVersion);
    resource = await find();
  }
  if (!resource)
    throw new ApplyError(`unknown kind ${kind} in ${apiVersion}: is its CRD installed?`, 404, object);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const namespace = resource.namespaced ? `/namespaces/${object.metadata?.namespace ?? 'default'}` : '';
  return `${base}${namespace}/${resource.name}/${encodeURIComponent(object.metadata?.name ?? '')}`;
}

/** One HTTPS request with the kubeconfig's credentials; resolves with status and body text. */
export async function rawRequest(
  clients: KubeClients,
  method: string,
  path: string,
  body?: string,
  contentType = 'application/json',
): Promise<{ status: number; body: string }> {
  const cluster = clients.config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const options: Parameters<typeof clients.config.applyToHTTPSOptions>[0] = {
    method,
    headers: body ? { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } : {},
  };
  await clients.config.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(url, options as never, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}
