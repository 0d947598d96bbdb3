import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { createServer, request as httpsRequest, type RequestOptions, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { AuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type KubeClients, messageOf } from '../../kube/client.ts';
import type { ObjectCache } from '../engine/resource-syncer.ts';
import { hostName } from '../translate/names.ts';
import {
  hostSubresourcePath,
  type KubeletRequest,
  KubeletRequestError,
  kubeletAuthorizationAttributes,
  parseKubeletRequest,
} from './paths.ts';
import { selfSignedServingCertificate } from './tls.ts';

export interface KubeletServerOptions {
  vclusterName: string;
  hostNamespace: string;
  host: KubeClients;
  virtual: KubeClients;
  /** The syncer's caches: the virtual pod must exist and its host twin must be one the syncer manages. */
  virtualPods: ObjectCache<V1Pod>;
  hostPods: ObjectCache<V1Pod>;
  /** PEM of the CA whose client certificates are accepted: the virtual API server's kubelet client's. */
  clientCA: string;
  /** The address the fake nodes advertise (InternalIP), and so a name of the serving certificate. */
  advertiseAddress: string;
  /** Where to listen (default: the advertised address). */
  bindAddress?: string;
  /** Port (0: any free one; `port` says which after `start`). */
  port: number;
  /** Serving certificate and key (PEM); default: self-signed for the advertised address. */
  tls?: { cert: string; key: string };
  logger: Logger;
}

/** How long an allowed SubjectAccessReview answer is reused (kubelet's webhook default is 5 min). */
const ALLOWED_TTL_MS = 60_000;

/** Headers never passed on to the host: credentials and hop-by-hop headers of the incoming connection. */
const droppedHeaders = new Set([
  'host',
  'authorization',
  'proxy-authorization',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
]);

/**
 * The kubelet API of the syncer's fake nodes, as vcluster's syncer serves it: the virtual API server
 * calls it for `kubectl logs`, `exec`, `attach` and `port-forward` on a virtual pod, and it proxies
 * each call to the host API server's subresource of the pod's host twin. Streams (SPDY or
 * WebSocket upgrades) are piped both ways once the host answered 101.
 *
 * Callers authenticate with a client certificate of {@link KubeletServerOptions.clientCA} and are
 * authorized like kubelet does it, with a SubjectAccessReview against the virtual API server
 * (`nodes/proxy` on the pod's node).
 */
export class KubeletServer {
  private server: Server | undefined;
  private readonly streams = new Set<Socket>();
  private readonly allowed = new Map<string, number>();
  private readonly authorization: AuthorizationV1Api;

  constructor(private readonly options: KubeletServerOptions) {
    this.authorization = options.virtual.config.makeApiClient(AuthorizationV1Api);
  }

  /** The port it listens on (after `start`). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get advertiseAddress(): string {
    return this.options.advertiseAddress;
  }

  async start(): Promise<number> {
    const { options } = this;
    const tls =
      options.tls ??
      (await selfSignedServingCertificate([options.advertiseAddress, 'localhost', '127.0.0.1']));
    const server = createServer({
      ...tls,
      ca: options.clientCA,
      requestCert: true,
      // Answered with 401 by the handler, as kubelet does, rather than a failed handshake.
      rejectUnauthorized: false,
      // `kubectl logs -f` and exec sessions last as long as the user wants.
      requestTimeout: 0,
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, new HttpReply(res), Buffer.alloc(0));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.track(socket);
      void this.handle(req, new SocketReply(socket), head);
    });
    server.on('tlsClientError', (error) =>
      options.logger.debug({ err: error }, 'kubelet API: TLS handshake failed'),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.bindAddress ?? options.advertiseAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    options.logger.info(
      { address: options.advertiseAddress, port: this.port },
      'kubelet API of the fake nodes serving',
    );
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.streams) socket.destroy();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private track(socket: Socket): void {
    this.streams.add(socket);
    socket.once('close', () => this.streams.delete(socket));
  }

  private async handle(req: IncomingMessage, reply: Reply, head: Buffer): Promise<void> {
    const { logger } = this.options;
    try {
      const socket = req.socket as TLSSocket;
      if (!socket.authorized) {
        reply.fail(401, 'Unauthorized: a client certificate of the virtual cluster CA is required');
        return;
      }
      if (req.url === '/healthz') {
        reply.fail(200, 'ok');
        return;
      }
      const request = parseKubeletRequest(req.url ?? '/');
      const virtualPod = this.options.virtualPods.get(request.pod, request.namespace);
      if (!virtualPod)
        throw new KubeletRequestError(404, `pod ${request.namespace}/${request.pod} not found`);
      if (request.uid && virtualPod.metadata?.uid !== request.uid)
        throw new KubeletRequestError(
          404,
          `pod ${request.namespace}/${request.pod} with UID ${request.uid} not found`,
        );
      const hostPod = hostName(request.pod, request.namespace, this.options.vclusterName);
      if (!this.options.hostPods.get(hostPod, this.options.hostNamespace))
        throw new KubeletRequestError(
          404,
          `pod ${request.namespace}/${request.pod} has no pod on the host (yet): ${this.options.hostNamespace}/${hostPod}`,
        );
      const peer = socket.getPeerCertificate();
      // As the API server reads a client certificate: CN is the user, every O a group.
      const user = [peer.subject?.CN ?? ''].flat()[0] ?? '';
      const groups = [peer.subject?.O ?? []].flat();
      if (!(await this.authorize(user, groups, request, virtualPod.spec?.nodeName ?? ''))) {
        throw new KubeletRequestError(
          403,
          `Forbidden (user=${user}, verb=${kubeletAuthorizationAttributes(request).verb}, resource=nodes, subresource=proxy)`,
        );
      }
      await this.proxy(req, reply, head, request);
    } catch (error) {
      if (error instanceof KubeletRequestError) {
        reply.fail(error.statusCode, error.message);
        return;
      }
      logger.warn({ err: error, url: req.url }, 'kubelet API: request failed');
      reply.fail(502, `proxying to the host API server failed: ${messageOf(error)}`);
    }
  }

  /** Kubelet's webhook authorization: may this user use `nodes/proxy` of the pod's node? */
  private async authorize(
    user: string,
    groups: string[],
    request: KubeletRequest,
    node: string,
  ): Promise<boolean> {
    const attributes = { ...kubeletAuthorizationAttributes(request), name: node };
    const key = JSON.stringify([user, groups, attributes]);
    const until = this.allowed.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const review = await this.authorization.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: attributes },
      },
    });
    const allowed = review.status?.allowed === true;
    if (allowed) {
      const now = Date.now();
      if (this.allowed.size >= 1000) {
        for (const [old, until] of this.allowed) if (until <= now) this.allowed.delete(old);
      }
      this.allowed.set(key, now + ALLOWED_TTL_MS);
    }
    return allowed;
  }

  /** Sends the request to the host pod's subresource; pipes the answer (or the upgraded stream) back. */
  private async proxy(
    req: IncomingMessage,
    reply: Reply,
    head: Buffer,
    request: KubeletRequest,
  ): Promise<void> {
    const { host, hostNamespace, vclusterName, logger } = this.options;
    const cluster = host.config.getCurrentCluster();
    if (!cluster) throw new Error('the host kubeconfig has no current cluster');
    const url = new URL(hostSubresourcePath(request, hostNamespace, vclusterName), cluster.server);
    const upgrade = reply instanceof SocketReply;
    const options: RequestOptions = {
      method: req.method,
      headers: forwardedHeaders(req.headers, req.rawHeaders, upgrade),
    };
    await host.config.applyToHTTPSOptions(options);
    // A connection of its own: a stream holds it for as long as it lasts.
    options.agent = false;
    const hostRequest = (url.protocol === 'http:' ? httpRequest : httpsRequest)(url, options);
    const started = Date.now();
    const done = (outcome: string) =>
      logger.debug(
        {
          endpoint: request.endpoint,
          pod: `${request.namespace}/${request.pod}`,
          ms: Date.now() - started,
          outcome,
        },
        'kubelet API: proxied',
      );

    hostRequest.on('upgrade', (response, hostSocket, hostHead) => {
      if (!(reply instanceof SocketReply)) {
        hostSocket.destroy();
        return;
      }
      this.track(hostSocket);
      const client = reply.socket;
      client.write(
        statusLine(response.statusCode ?? 101, response.statusMessage) +
          rawHeaderLines(response.rawHeaders) +
          '\r\n',
      );
      if (hostHead.length > 0) client.write(hostHead);
      if (head.length > 0) hostSocket.write(head);
      // Either side closing ends the stream on the other.
      hostSocket.on('error', () => client.destroy());
      client.on('error', () => hostSocket.destroy());
      hostSocket.on('close', () => client.destroy());
      client.on('close', () => hostSocket.destroy());
      hostSocket.pipe(client);
      client.pipe(hostSocket);
      done('stream');
    });
    hostRequest.on('response', (response) => {
      reply.relay(response);
      done(String(response.statusCode));
    });
    hostRequest.on('error', (error) => {
      logger.warn({ err: error, endpoint: request.endpoint }, 'kubelet API: host API server request failed');
      reply.fail(502, `the host API server did not answer: ${error.message}`);
    });
    reply.onClose(() => hostRequest.destroy());
    if (upgrade) hostRequest.end();
    else req.pipe(hostRequest);
  }
}

/** The incoming headers to pass on: all but credentials and hop-by-hop ones, repeated headers kept apart. */
function forwardedHeaders(
  headers: IncomingHttpHeaders,
  raw: string[],
  upgrade: boolean,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (droppedHeaders.has(name) || name.startsWith('impersonate-') || name.startsWith('x-remote-')) continue;
    if (!upgrade && (name === 'connection' || name === 'upgrade')) continue;
    out[name] = [...(out[name] ?? []), raw[i + 1]!];
  }
  if (upgrade && !out.connection) out.connection = ['Upgrade'];
  if (upgrade && !out.upgrade && headers.upgrade) out.upgrade = [headers.upgrade];
  return out;
}

const statusLine = (code: number, message?: string) => `HTTP/1.1 ${code} ${message ?? ''}\r\n`;

function rawHeaderLines(raw: string[]): string {
  let lines = '';
  for (let i = 0; i + 1 < raw.length; i += 2) lines += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return lines;
}

/** Where the answer goes: an HTTP response, or the raw socket of a request that asked to upgrade. */
interface Reply {
  fail(statusCode: number, message: string): void;
  /** Passes on a host answer that is not an upgrade. */
  relay(response: IncomingMessage): void;
  onClose(listener: () => void): void;
}

class HttpReply implements Reply {
  constructor(private readonly res: ServerResponse) {}

  fail(statusCode: number, message: string): void {
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    this.res.writeHead(statusCode, { 'content-type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
  }

  relay(response: IncomingMessage): void {
    const headers: Record<string, string[]> = {};
    for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
      const name = response.rawHeaders[i]!.toLowerCase();
      if (droppedHeaders.has(name) || name === 'connection' || name === 'content-length') continue;
      headers[name] = [...(headers[name] ?? []), response.rawHeaders[i + 1]!];
    }
    this.res.writeHead(response.statusCode ?? 502, headers);
    // Log lines as they come (`kubectl logs -f`): no buffering on the way.
    this.res.flushHeaders();
    response.pipe(this.res);
    response.on('error', () => this.res.destroy());
  }

  onClose(listener: () => void): void {
    this.res.once('close', listener);
  }
}

class SocketReply implements Reply {
  constructor(readonly socket: Socket) {}

  fail(statusCode: number, message: string): void {
    this.respond(statusCode, { 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from(`${message}\n`));
  }

  relay(response: IncomingMessage): void {
    // The host refused to upgrade (a bad request, a pod that is gone): its answer, then close.
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      const headers: Record<string, string> = {};
      const raw = response.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase();
        if (['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade'].includes(name))
          continue;
        headers[raw[i]!] = raw[i + 1]!;
      }
      this.respond(response.statusCode ?? 502, headers, Buffer.concat(chunks), response.statusMessage);
    });
    response.on('error', () => this.socket.destroy());
  }

  onClose(listener: () => void): void {
    this.socket.once('close', listener);
  }

  private respond(statusCode: number, headers: Record<string, string>, body: Buffer, message?: string): void {
    if (this.socket.destroyed) return;
    let text = statusLine(statusCode, message ?? statusText(statusCode));
    for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
    text += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    this.socket.end(Buffer.concat([Buffer.from(text), body]));
  }
}

function statusText(code: number): string {
  return (
    {
      200: 'OK',
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      502: 'Bad Gateway',
    }[code] ?? ''
  );
}
