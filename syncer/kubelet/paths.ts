import { hostName } from '../translate/names.ts';

/**
 * The kubelet API paths a virtual API server calls on a fake node, and the host API server's pod
 * subresources they become. Pure: no I/O, so every rule is tested on its own.
 *
 * The API server builds these paths itself (k8s.io/kubernetes pkg/registry/core/pod/strategy.go):
 * `/containerLogs/{ns}/{pod}/{container}`, `/exec/{ns}/{pod}/{container}`,
 * `/attach/{ns}/{pod}/{container}`, `/portForward/{ns}/{pod}`; kubelet also accepts the pod's UID
 * between pod and container, which is kept out of the host request (the host pod has its own).
 */
export type KubeletEndpoint = 'containerLogs' | 'exec' | 'attach' | 'portForward';

export interface KubeletRequest {
  endpoint: KubeletEndpoint;
  /** The virtual pod. */
  namespace: string;
  pod: string;
  /** The virtual pod's UID, when the path names it. */
  uid?: string;
  container?: string;
  query: URLSearchParams;
}

/** A request this server cannot serve: the status and the message kubelet would answer with. */
export class KubeletRequestError extends Error {
  override name = 'KubeletRequestError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const endpoints: readonly KubeletEndpoint[] = ['containerLogs', 'exec', 'attach', 'portForward'];

/** Which host subresource each kubelet endpoint is. */
const subresources: Record<KubeletEndpoint, string> = {
  containerLogs: 'log',
  exec: 'exec',
  attach: 'attach',
  portForward: 'portforward',
};

/**
 * Parses the path and query of a request to the kubelet API. Throws {@link KubeletRequestError}
 * (404) for a path kubelet would not serve and 400 for one that is incomplete.
 */
export function parseKubeletRequest(url: string): KubeletRequest {
  const parsed = new URL(url, 'https://kubelet.invalid');
  const segments = parsed.pathname.split('/').slice(1).map(decodeSegment);
  const [first, namespace, pod, ...rest] = segments;
  const endpoint = endpoints.find((e) => e === first);
  if (!endpoint)
    throw new KubeletRequestError(404, `${parsed.pathname}: not a kubelet endpoint this node serves`);
  if (!namespace || !pod)
    throw new KubeletRequestError(400, `${parsed.pathname}: namespace and pod name are required`);
  if (endpoint === 'portForward') {
    // /portForward/{ns}/{pod}[/{uid}]
    if (rest.length > 1 || rest[0] === '')
      throw new KubeletRequestError(404, `${parsed.pathname}: not a kubelet endpoint this node serves`);
    return { endpoint, namespace, pod, ...(rest[0] ? { uid: rest[0] } : {}), query: parsed.searchParams };
  }
  // /{endpoint}/{ns}/{pod}/{container} or /{endpoint}/{ns}/{pod}/{uid}/{container}
  if (rest.length === 0 || rest.length > 2 || rest.some((s) => s === ''))
    throw new KubeletRequestError(400, `${parsed.pathname}: a container name is required`);
  const [uid, container] = rest.length === 2 ? [rest[0], rest[1]] : [undefined, rest[0]];
  return { endpoint, namespace, pod, ...(uid ? { uid } : {}), container, query: parsed.searchParams };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new KubeletRequestError(400, `"${segment}" is not a valid path segment`);
  }
}

/** Log options that mean the same on kubelet's `/containerLogs` and the API's `pods/log`. */
const logParameters = [
  'follow',
  'previous',
  'timestamps',
  'sinceSeconds',
  'sinceTime',
  'tailLines',
  'limitBytes',
  'stream',
];

/**
 * Kubelet's stream flags (`input=1`, …) and the API's `PodExecOptions`/`PodAttachOptions` fields
 * they stand for (`stdin=true`, …).
 */
const streamFlags: [kubelet: string, api: string][] = [
  ['input', 'stdin'],
  ['output', 'stdout'],
  ['error', 'stderr'],
  ['tty', 'tty'],
];

const isTrue = (value: string | null) => value !== null && ['1', 'true', 'True', 'TRUE'].includes(value);

/**
 * The path and query of the host API server's subresource for a kubelet request on a virtual pod:
 * `/api/v1/namespaces/{hostNamespace}/pods/{hostPod}/{log|exec|attach|portforward}?…`, with the
 * virtual pod's host name and kubelet's parameters spelled as the API spells them.
 */
export function hostSubresourcePath(
  request: KubeletRequest,
  hostNamespace: string,
  vclusterName: string,
): string {
  const hostPod = hostName(request.pod, request.namespace, vclusterName);
  const query = new URLSearchParams();
  if (request.container) query.append('container', request.container);
  const q = request.query;
  switch (request.endpoint) {
    case 'containerLogs':
      for (const name of logParameters) for (const value of q.getAll(name)) query.append(name, value);
      break;
    case 'exec':
    case 'attach':
      for (const [kubelet, api] of streamFlags) {
        // Either spelling, as kubelet itself accepts only its own but a proxy may pass the API's.
        if (isTrue(q.get(kubelet)) || isTrue(q.get(api))) query.append(api, 'true');
      }
      if (request.endpoint === 'exec')
        for (const command of q.getAll('command')) query.append('command', command);
      break;
    case 'portForward':
      // SPDY carries the ports in each stream's headers; WebSocket clients name them in the query.
      for (const port of [...q.getAll('port'), ...q.getAll('ports')]) query.append('ports', port);
      break;
  }
  const path = `/api/v1/namespaces/${encodeURIComponent(hostNamespace)}/pods/${encodeURIComponent(hostPod)}/${subresources[request.endpoint]}`;
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}

/**
 * What kubelet's own authorizer asks of the API server for this request (pkg/kubelet/server/auth.go):
 * these endpoints are all `nodes/proxy`; reading logs is `get`, opening a stream into a container
 * (exec, attach, port-forward, over SPDY's POST or WebSocket's GET) is `create`.
 */
export function kubeletAuthorizationAttributes(request: KubeletRequest): {
  verb: string;
  resource: string;
  subresource: string;
} {
  return {
    verb: request.endpoint === 'containerLogs' ? 'get' : 'create',
    resource: 'nodes',
    subresource: 'proxy',
  };
}
