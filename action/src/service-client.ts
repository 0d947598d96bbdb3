/**
 * The service API as the Action calls it: `POST /api/v1/previews`, the status URL it answers with
 * and that preview's kubeconfig, each with a fresh GitHub Actions OIDC token. Plain fetch; a refusal becomes a ServiceError
 * with the service's own words (`error`, `hint`).
 */

export type DesiredKind =
  | 'up'
  | 'down'
  | 'reset'
  | 'redeploy'
  | 'pause'
  | 'resume'
  | 'skip'
  | 'await-approval';

export interface PreviewRequested {
  jobId?: string;
  desired: { kind: DesiredKind; sha?: string; reason?: string };
  statusUrl: string;
}

export interface StepStatus {
  name: string;
  status: 'done' | 'running' | 'failed' | 'pending';
  durationMs?: number;
}

export interface PreviewStatus {
  state: string;
  url?: string;
  sha?: string;
  namespace?: string;
  queuePosition?: number;
  jobId?: string;
  steps?: StepStatus[];
  error?: string;
  hint?: string;
}

/** A short-lived kubeconfig of the preview's virtual cluster (`GET …/{pr}/kubeconfig`). */
export interface PreviewKubeconfig {
  kubeconfig: string;
  /** The service-account token inside it, to mask in the log. */
  token: string;
  expiresAt: string;
  serviceAccount: string;
}

/** The service answered with an error status. */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly status: number,
    readonly error: string,
    readonly hint: string | undefined,
  ) {
    super(`the service answered ${status}: ${error}${hint ? `\nHint: ${hint}` : ''}`);
  }
}

/** The service could not be reached at all. */
export class ServiceUnreachableError extends Error {
  override name = 'ServiceUnreachableError';
}

export interface ServiceClientOptions {
  serviceUrl: string;
  /** A GitHub Actions OIDC token for the service's audience (fetched again for each call). */
  token: () => Promise<string>;
  fetch?: typeof fetch;
}

export class ServiceClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ServiceClientOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  requestPreview(body: {
    pullRequest: number;
    action: string;
    sha?: string;
    variables?: Record<string, string>;
  }): Promise<PreviewRequested> {
    return this.call<PreviewRequested>('POST', '/api/v1/previews', body);
  }

  /** `statusUrl` as POST answered it (a path on the service). */
  status(statusUrl: string): Promise<PreviewStatus> {
    return this.call<PreviewStatus>('GET', statusUrl);
  }

  /** The kubeconfig of the preview whose status is at `statusUrl` (the path POST answered with). */
  kubeconfig(statusUrl: string): Promise<PreviewKubeconfig> {
    const { pathname } = new URL(statusUrl, `${this.options.serviceUrl}/`);
    return this.call<PreviewKubeconfig>('GET', `${pathname}/kubeconfig`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, `${this.options.serviceUrl}/`);
    let response: Response;
    try {
      response = await this.fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${await this.options.token()}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const why =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new ServiceUnreachableError(
        `cannot reach the service at ${url.origin} (${why}); check service-url`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const answer = (parsed ?? {}) as { error?: unknown; hint?: unknown };
      throw new ServiceError(
        response.status,
        typeof answer.error === 'string' ? answer.error : text.slice(0, 200) || response.statusText,
        typeof answer.hint === 'string' ? answer.hint : undefined,
      );
    }
    if (parsed === undefined) {
      throw new ServiceError(
        response.status,
        `${method} ${url.pathname} did not answer JSON`,
        'check service-url',
      );
    }
    return parsed as T;
  }
}
