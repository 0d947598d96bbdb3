import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { z } from 'zod';
import type { PodSecurityLevel, PreviewUrlStyle, WakerAddress } from '../preview/index.ts';
import { POD_SECURITY_LEVELS, parseDuration, parseWakerAddress } from '../preview/index.ts';
import type { HostSecretAllowlist } from './host-secrets/plan-host-secrets.ts';
import type { PodSecurityPolicy } from './reconcile/pod-security-level.ts';

/**
 * The service's configuration, read from the environment in this one place: Probot's standard
 * variables (`APP_ID`, `PRIVATE_KEY`/`PRIVATE_KEY_PATH`, `WEBHOOK_SECRET`, `LOG_LEVEL`, `GHE_HOST`,
 * `GHE_PROTOCOL`, `PORT`, `HOST`) and ours (`REDIS_URL`, `KUBECONFIG`, `VCLUSTER_VALUES_FILE`, `BASE_DOMAIN`,
 * `VCLUSTER_PROVIDER`, `WORKER_CONCURRENCY`, `SWEEP_INTERVAL`, `PREVIEW_TRAFFIC_METRICS_URL`, `MAX_PREVIEWS`, `MAX_PREVIEWS_PER_INSTALLATION`, `RATE_LIMIT_WEBHOOKS_PER_MINUTE`, `RATE_LIMIT_API_PER_MINUTE`, for the
 * service API `OIDC_ISSUER`, `API_AUDIENCE`, `PUBLIC_URL`, for the status page `STATUS_PAGE_AUTH`, for
 * host Secrets `PREVIEW_HOST_SECRETS` and `PREVIEW_HOST_SECRETS_NAMESPACE`). Every problem is reported at once, each naming its variable.
 */

export const SERVICE_ROLES = ['all', 'web', 'worker'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const PROVIDERS = ['kubernetes', 'local'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
/**
 * The provider of the service and of the CLI's create and preview: `local` runs on any host, kwok
 * nodes included; `kubernetes` needs nodes that run containers (the vcluster-preview chart sets it).
 */
export const DEFAULT_PROVIDER: ProviderName = 'local';

export interface ServiceConfig {
  role: ServiceRole;
  /** Unset only where the App was allowed to be missing (`githubApp: 'optional'`): no webhooks, no API. */
  appId?: number;
  /** PEM text of the GitHub App's private key; set with `appId`. */
  privateKey?: string;
  /** Set for the `web` and `all` roles. */
  webhookSecret?: string;
  logLevel: LogLevel;
  /** Where the GitHub REST API is: `https://api.github.com`, or `<GHE_PROTOCOL>://<GHE_HOST>/api/v3`. */
  githubBaseUrl: string;
  gheHost?: string;
  gheProtocol: 'http' | 'https';
  port: number;
  host: string;
  redisUrl: string;
  /** Path of the host cluster's kubeconfig; unset means in-cluster configuration. */
  kubeconfig?: string;
  /**
   * A YAML file of charts/vcluster values every preview of the `kubernetes` provider is installed
   * with (`VCLUSTER_VALUES_FILE`), as `helm install -f` takes them: the operator's settings.
   */
  vclusterValuesFile?: string;
  /**
   * The IngressClass of every preview's host Ingresses (`PREVIEW_INGRESS_CLASS`), whatever a pull
   * request's Ingress names; unset, the host's default IngressClass.
   */
  previewIngressClass?: string;
  /**
   * CSI drivers (`PREVIEW_ALLOW_CSI_DRIVERS`, default none) and storage classes
   * (`PREVIEW_ALLOW_STORAGE_CLASSES`, default any) previews' pods and claims may use on the host.
   */
  previewVolumeFence: { allowedCsiDrivers: string[]; allowedStorageClasses?: string[] };
  /**
   * The Pod Security level of previews whose config asks for none (`PREVIEW_POD_SECURITY`, default
   * restricted) and the loosest a repository's `podSecurity` may ask for (`PREVIEW_POD_SECURITY_MAX`,
   * default baseline).
   */
  podSecurity: PodSecurityPolicy;
  /**
   * Space quota of each preview's virtual cluster store (etcd) in bytes (`PREVIEW_STORE_LIMIT_MIB`;
   * unset, 256 MiB for local virtual clusters and the chart's `controlPlane.etcd.quotaBackendBytes`).
   */
  previewStoreQuotaBytes?: number;
  /** Domain under which preview URLs are made; set for the `worker` and `all` roles. */
  baseDomain?: string;
  /**
   * Scheme and port of preview URLs (`PREVIEW_URL_SCHEME`, default https; `PREVIEW_URL_PORT`, unset
   * for the scheme's own): where the ingress controller is reached from outside.
   */
  urlStyle: PreviewUrlStyle;
  provider: ProviderName;
  /** Jobs one worker process runs at once, always for different pull requests (`WORKER_CONCURRENCY`, default 2). */
  workerConcurrency: number;
  /** How often the sweeper looks for previews to pause or delete (`SWEEP_INTERVAL`, default 5m). */
  sweepIntervalMs: number;
  /**
   * Where the host's ingress controller reaches this service's waker (`PREVIEW_WAKER_ADDRESS`,
   * `ip:port`, not loopback): a sleeping preview's URL is sent there. Unset, the `all` role's own HOST
   * and PORT (for 0.0.0.0 this machine's first outside address), right for the embedded host; a
   * `worker` alone, or a loopback HOST, then routes nothing there.
   */
  wakerAddress?: WakerAddress;
  /** How long the waker holds a sleeping preview's request while it wakes (`PREVIEW_WAKE_TIMEOUT`, default 20s). */
  wakeTimeoutMs: number;
  /** Live previews at most, in all (`MAX_PREVIEWS`); unset for no limit. */
  maxPreviews?: number;
  /** Live previews at most per GitHub App installation (`MAX_PREVIEWS_PER_INSTALLATION`); unset for no limit. */
  maxPreviewsPerInstallation?: number;
  /**
   * Requests per minute one installation may send (`RATE_LIMIT_WEBHOOKS_PER_MINUTE`, default 600;
   * `RATE_LIMIT_API_PER_MINUTE`, default 120; 0 for no limit), so one floods no other's turn.
   */
  rateLimits: { webhooksPerMinute: number; apiCallsPerMinute: number };
  /**
   * Who issues the GitHub Actions OIDC tokens the service API accepts (`OIDC_ISSUER`): by default
   * `https://token.actions.githubusercontent.com`, or `<GHE_PROTOCOL>://<GHE_HOST>/_services/token`
   * on GitHub Enterprise Server.
   */
  oidcIssuer: string;
  /**
   * Where people and workflows reach this service (`PUBLIC_URL`, like https://previews.example.com):
   * the sticky comment's "full log" links to its status page entry there.
   */
  publicUrl?: string;
  /**
   * The ingress controller's Prometheus metrics (`PREVIEW_TRAFFIC_METRICS_URL`, Traefik's or
   * ingress-nginx's): a request to a preview counts as activity, so a preview being looked at does
   * not sleep. Unset, only pushes and deploys count (`vcluster-preview up` sets its own Traefik's).
   */
  trafficMetricsUrl?: string;
  /**
   * The `aud` those tokens must carry (`API_AUDIENCE`, default `PUBLIC_URL`): this installation's
   * own, by convention its URL (the Action's `service-url`, its default audience), so a token made
   * for another service is refused here. Unset, the API answers 503 and says so; webhooks work without it.
   */
  apiAudience?: string;
  /** The status page's basic-auth login (`STATUS_PAGE_AUTH=user:password`); unset, the page is open. */
  statusPageAuth?: { username: string; password: string };
  /**
   * Which host Secrets each repository's previews may copy (`PREVIEW_HOST_SECRETS`, JSON by
   * `owner/repo`, `owner/*` or `*`); empty, none may.
   */
  hostSecrets: HostSecretAllowlist;
  /** The host namespace those Secrets are read from (`PREVIEW_HOST_SECRETS_NAMESPACE`, default `default`). */
  hostSecretsNamespace: string;
}

const repoPatternPattern = /^(\*|[A-Za-z0-9-]+\/(\*|[A-Za-z0-9._-]+))$/;
const secretNamePattern = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class ServiceConfigError extends Error {
  override name = 'ServiceConfigError';
  constructor(readonly problems: string[]) {
    super(
      `the service configuration is not valid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
  }
}

type Env = Record<string, string | undefined>;

const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;
const optionalText = z.preprocess(blankToUndefined, z.string().trim().optional());

const podSecurityLevelSetting = (fallback: PodSecurityLevel) =>
  z.preprocess(
    (value) => (typeof value === 'string' ? blankToUndefined(value.trim().toLowerCase()) : value),
    z
      .enum(POD_SECURITY_LEVELS, { error: `must be a Pod Security level: ${POD_SECURITY_LEVELS.join(', ')}` })
      .default(fallback),
  );

/** Names separated by commas, each matching `pattern`; unset when blank. */
const nameList = (pattern: RegExp, message: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .transform((value) => [
        ...new Set(
          value
            .split(',')
            .map((name) => name.trim())
            .filter(Boolean),
        ),
      ])
      .refine((names) => names.every((name) => pattern.test(name)), message)
      .optional(),
  );

const hostnamePattern =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** An http(s) URL without query or fragment, its trailing slashes dropped; unset when blank. */
const optionalHttpUrl = (message: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .transform((url) => url.replace(/\/+$/, ''))
      .refine((url) => {
        try {
          const parsed = new URL(url);
          return ['https:', 'http:'].includes(parsed.protocol) && !parsed.search && !parsed.hash;
        } catch {
          return false;
        }
      }, message)
      .optional(),
  );

const perMinute = (fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(
        /^\d+$/,
        'must be a whole number of requests per minute per installation, like 600 (0 for no limit)',
      )
      .transform(Number)
      .default(fallback),
  );

/** A duration setting (`5m`, `30s`), in ms; blank for the default. */
const durationSetting = (fallback: string, examples: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .default(fallback)
      .transform((text, ctx) => {
        try {
          return parseDuration(text);
        } catch {
          ctx.addIssue({ code: 'custom', message: `must be a duration like ${examples} (got "${text}")` });
          return z.NEVER;
        }
      }),
  );

const storeMiB = z.preprocess(
  blankToUndefined,
  z
    .string()
    .trim()
    .regex(/^\d+$/, "must be a whole number of MiB, like 256 (leave it unset for the provider's default)")
    .transform(Number)
    .refine((mib) => mib >= 16, 'must be at least 16 MiB: a virtual cluster needs a few MiB for itself')
    .optional(),
);

const optionalLimit = z.preprocess(
  blankToUndefined,
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number of previews, like 20 (leave it unset for no limit)')
    .transform(Number)
    .refine((limit) => limit > 0, 'must be at least 1 (leave it unset for no limit)')
    .optional(),
);

/** How preview URLs are reached from outside: read by the service and by `vcluster-preview preview` alike. */
const urlStyleSchema = z.object({
  PREVIEW_URL_SCHEME: z.preprocess(
    (value) => (typeof value === 'string' ? blankToUndefined(value.toLowerCase()) : value),
    z.enum(['http', 'https'], { error: 'must be http or https' }).default('https'),
  ),
  PREVIEW_URL_PORT: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a port number, like 8080')
      .transform(Number)
      .refine((port) => port >= 1 && port <= 65_535, 'must be a port number between 1 and 65535')
      .optional(),
  ),
});

/**
 * Scheme and port of preview URLs from `PREVIEW_URL_SCHEME` and `PREVIEW_URL_PORT` (default https
 * on its own port); a ServiceConfigError names a variable that is wrong.
 */
export function readUrlStyle(env: Env): PreviewUrlStyle {
  const parsed = urlStyleSchema.safeParse(env);
  if (!parsed.success)
    throw new ServiceConfigError(
      parsed.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`),
    );
  return {
    scheme: parsed.data.PREVIEW_URL_SCHEME,
    ...(parsed.data.PREVIEW_URL_PORT !== undefined ? { port: parsed.data.PREVIEW_URL_PORT } : {}),
  };
}

const envSchema = z.object({
  APP_ID: z.preprocess(
    blankToUndefined,
    z
      .string({ error: 'is required: the numeric id of the GitHub App (its settings page shows it)' })
      .regex(/^\d+$/, 'must be the numeric id of the GitHub App, like 123456')
      .transform(Number)
      .refine((id) => id > 0, 'must be a positive number'),
  ),
  PRIVATE_KEY: optionalText,
  PRIVATE_KEY_PATH: optionalText,
  WEBHOOK_SECRET: z.preprocess(blankToUndefined, z.string().optional()),
  LOG_LEVEL: z.preprocess(
    (value) => (typeof value === 'string' ? blankToUndefined(value.toLowerCase()) : value),
    z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ),
  GHE_HOST: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .refine((host) => !host.includes('://'), 'is a host name without a scheme (set GHE_PROTOCOL for http)')
      .refine(
        (host) =>
          host.includes('://') ||
          /^[a-z0-9.-]+(:\d{1,5})?$/i.test(host) ||
          /^\[[0-9a-f:]+\](:\d{1,5})?$/i.test(host),
        'must be a host name with an optional port, like github.example.com or 127.0.0.1:8080',
      )
      .optional(),
  ),
  GHE_PROTOCOL: z.preprocess(
    (value) => (typeof value === 'string' ? blankToUndefined(value.toLowerCase()) : value),
    z.enum(['http', 'https'], { error: 'must be http or https' }).default('https'),
  ),
  PORT: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a port number, like 3000')
      .transform(Number)
      .refine((port) => port >= 1 && port <= 65_535, 'must be a port number between 1 and 65535')
      .default(3000),
  ),
  HOST: z.preprocess(blankToUndefined, z.string().trim().default('0.0.0.0')),
  REDIS_URL: z.preprocess(
    blankToUndefined,
    z
      .string({
        error: 'is required: the Redis server that holds the job queue, like redis://127.0.0.1:6379',
      })
      .refine((url) => {
        try {
          return ['redis:', 'rediss:'].includes(new URL(url).protocol);
        } catch {
          return false;
        }
      }, 'must be a redis:// or rediss:// URL, like redis://127.0.0.1:6379'),
  ),
  KUBECONFIG: optionalText,
  VCLUSTER_VALUES_FILE: optionalText,
  PREVIEW_INGRESS_CLASS: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be an IngressClass name, like nginx or traefik')
      .optional(),
  ),
  PREVIEW_POD_SECURITY: podSecurityLevelSetting('restricted'),
  PREVIEW_POD_SECURITY_MAX: podSecurityLevelSetting('baseline'),
  PREVIEW_ALLOW_CSI_DRIVERS: nameList(
    /^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$/,
    'must be CSI driver names separated by commas, like ebs.csi.aws.com,secrets-store.csi.k8s.io',
  ),
  PREVIEW_ALLOW_STORAGE_CLASSES: nameList(
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
    'must be StorageClass names separated by commas, like standard,fast',
  ),
  BASE_DOMAIN: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .transform((domain) => domain.replace(/\.$/, '').toLowerCase())
      .refine((domain) => hostnamePattern.test(domain), 'must be a DNS name, like preview.example.com')
      .optional(),
  ),
  ...urlStyleSchema.shape,
  VCLUSTER_PROVIDER: z.preprocess(
    (value) => (typeof value === 'string' ? blankToUndefined(value.toLowerCase()) : value),
    z.enum(PROVIDERS, { error: `must be one of ${PROVIDERS.join(', ')}` }).default(DEFAULT_PROVIDER),
  ),
  SWEEP_INTERVAL: durationSetting('5m', '5m, 30s or 1h'),
  PREVIEW_WAKER_ADDRESS: z.preprocess(
    blankToUndefined,
    z
      .string()
      .transform((text, ctx) => {
        const address = parseWakerAddress(text);
        if (address && /^127\.|^::1$/.test(address.ip)) {
          ctx.addIssue({
            code: 'custom',
            message: `may not be a loopback address: the ingress controller reaches it through an EndpointSlice, which refuses one; use an address of the service's machine or pod (got "${text}")`,
          });
          return z.NEVER;
        }
        if (address) return address;
        ctx.addIssue({
          code: 'custom',
          message: `must be an IP address and port the ingress controller reaches the service at, like 10.96.0.20:3000 (got "${text}")`,
        });
        return z.NEVER;
      })
      .optional(),
  ),
  PREVIEW_WAKE_TIMEOUT: durationSetting('20s', '20s or 1m'),
  WORKER_CONCURRENCY: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^\d+$/, 'must be a whole number of jobs at once, like 2')
      .transform(Number)
      .refine((count) => count >= 1 && count <= 64, 'must be between 1 and 64')
      .default(2),
  ),
  PREVIEW_STORE_LIMIT_MIB: storeMiB,
  MAX_PREVIEWS: optionalLimit,
  MAX_PREVIEWS_PER_INSTALLATION: optionalLimit,
  RATE_LIMIT_WEBHOOKS_PER_MINUTE: perMinute(600),
  RATE_LIMIT_API_PER_MINUTE: perMinute(120),
  OIDC_ISSUER: optionalHttpUrl(
    'must be the https:// URL of the token issuer, like https://token.actions.githubusercontent.com',
  ),
  PUBLIC_URL: optionalHttpUrl(
    'must be the http(s):// URL this service is reached at, like https://previews.example.com',
  ),
  PREVIEW_TRAFFIC_METRICS_URL: optionalHttpUrl(
    "must be the http(s):// URL of the ingress controller's Prometheus metrics, like http://traefik-metrics.kube-system:9100/metrics",
  ),
  API_AUDIENCE: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .transform((audience) => audience.replace(/\/+$/, ''))
      .refine(
        (audience) => audience !== 'vcluster-preview',
        "must be this installation's own (by convention its URL, like https://previews.example.com), not the name every installation shares",
      )
      .optional(),
  ),
  STATUS_PAGE_AUTH: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(
        /^[^:\s]+:.+$/,
        'must be user:password, like admin:s3cret (a user name without `:`, then a password; leave it unset for an open status page)',
      )
      .transform((auth) => {
        const colon = auth.indexOf(':');
        return { username: auth.slice(0, colon), password: auth.slice(colon + 1) };
      })
      .optional(),
  ),
  PREVIEW_HOST_SECRETS: z.preprocess(
    blankToUndefined,
    z
      .string()
      .transform((text, ctx) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: 'is not JSON: give an object like {"owner/repo": ["db-creds"], "owner/*": ["shared"]}',
          });
          return z.NEVER;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          ctx.addIssue({
            code: 'custom',
            message: 'must be a JSON object like {"owner/repo": ["db-creds"]}',
          });
          return z.NEVER;
        }
        return parsed as Record<string, unknown>;
      })
      .pipe(
        z.record(
          z.string().regex(repoPatternPattern),
          z.array(
            z.string().regex(secretNamePattern, 'lists a name that is not a Secret name (like "db-creds")'),
            { error: 'maps a repository to something other than a list of Secret names' },
          ),
          {
            // zod reports a bad key as "Invalid key in record"; say which keys are meant.
            error: (issue) =>
              issue.code === 'invalid_key'
                ? `has a key that is not owner/repo, owner/* or * (like "acme/shop")`
                : undefined,
          },
        ),
      )
      .default({}),
  ),
  PREVIEW_HOST_SECRETS_NAMESPACE: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name, like vcluster-preview')
      .default('default'),
  ),
});

/** GitHub Actions' OIDC issuer on github.com. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** PEM from `PRIVATE_KEY` as GitHub hands it out, with `\n` escapes, or base64 of the PEM (Probot's rules). */
const normalizePem = (text: string): string => {
  const trimmed = text.replace(/\\n/g, '\n').trim();
  if (trimmed.includes('-----BEGIN')) return `${trimmed}\n`;
  const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? `${decoded.trim()}\n` : trimmed;
};

const checkPem = (pem: string): string | undefined => {
  try {
    createPrivateKey(pem);
    return undefined;
  } catch (error) {
    return `is not a PEM private key (${error instanceof Error ? error.message : String(error)}); use the .pem file GitHub generated for the App`;
  }
};

export interface LoadServiceConfigOptions {
  readFile?: (path: string) => string;
  /**
   * `optional` lets the App's settings (APP_ID, the private key, WEBHOOK_SECRET) be missing all
   * together, for `npm start` on a machine with no App yet: the service then serves no webhooks and
   * no API. Default `required`; never read from the environment, so a deployment cannot lose it.
   */
  githubApp?: 'required' | 'optional';
}

const GITHUB_APP_SETTINGS = ['APP_ID', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'WEBHOOK_SECRET'] as const;

/** The configuration for `role` from `env`; throws `ServiceConfigError` listing every problem. */
export function loadServiceConfig(
  env: Env,
  role: ServiceRole,
  options: LoadServiceConfigOptions = {},
): ServiceConfig {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const problems: string[] = [];
  const withoutApp =
    options.githubApp === 'optional' &&
    GITHUB_APP_SETTINGS.every((name) => blankToUndefined(env[name]) === undefined);
  const parsed = envSchema.safeParse(withoutApp ? { ...env, APP_ID: '1' } : env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${String(issue.path[0])} ${issue.message}`);
  }

  let privateKey: string | undefined;
  const keyText = blankToUndefined(env.PRIVATE_KEY) as string | undefined;
  const keyPath = blankToUndefined(env.PRIVATE_KEY_PATH) as string | undefined;
  if (keyText !== undefined) {
    privateKey = normalizePem(keyText);
    const problem = checkPem(privateKey);
    if (problem) problems.push(`PRIVATE_KEY ${problem}`);
  } else if (keyPath !== undefined) {
    try {
      privateKey = normalizePem(readFile(keyPath));
      const problem = checkPem(privateKey);
      if (problem) problems.push(`PRIVATE_KEY_PATH (${keyPath}) ${problem}`);
    } catch (error) {
      problems.push(
        `PRIVATE_KEY_PATH cannot be read (${keyPath}: ${error instanceof Error ? error.message : String(error)})`,
      );
    }
  } else if (!withoutApp) {
    problems.push(
      'PRIVATE_KEY or PRIVATE_KEY_PATH is required: the GitHub App private key (PEM text, or the path of its .pem file)',
    );
  }

  const serves = role === 'web' || role === 'all';
  const works = role === 'worker' || role === 'all';
  if (serves && !withoutApp && blankToUndefined(env.WEBHOOK_SECRET) === undefined) {
    problems.push(
      `WEBHOOK_SECRET is required for the ${role} role: the secret set in the GitHub App's webhook`,
    );
  }
  if (works && blankToUndefined(env.BASE_DOMAIN) === undefined) {
    problems.push(
      `BASE_DOMAIN is required for the ${role} role: the domain preview URLs are made under, like preview.example.com`,
    );
  }

  if (problems.length > 0 || !parsed.success || (privateKey === undefined && !withoutApp))
    throw new ServiceConfigError(problems);
  const values = parsed.data;
  return {
    role,
    ...(withoutApp ? {} : { appId: values.APP_ID, privateKey }),
    ...(values.WEBHOOK_SECRET !== undefined ? { webhookSecret: values.WEBHOOK_SECRET } : {}),
    logLevel: values.LOG_LEVEL,
    githubBaseUrl: values.GHE_HOST
      ? `${values.GHE_PROTOCOL}://${values.GHE_HOST}/api/v3`
      : 'https://api.github.com',
    ...(values.GHE_HOST !== undefined ? { gheHost: values.GHE_HOST } : {}),
    gheProtocol: values.GHE_PROTOCOL,
    port: values.PORT,
    host: values.HOST,
    redisUrl: values.REDIS_URL,
    ...(values.KUBECONFIG !== undefined ? { kubeconfig: values.KUBECONFIG } : {}),
    ...(values.VCLUSTER_VALUES_FILE !== undefined ? { vclusterValuesFile: values.VCLUSTER_VALUES_FILE } : {}),
    ...(values.PREVIEW_INGRESS_CLASS !== undefined
      ? { previewIngressClass: values.PREVIEW_INGRESS_CLASS }
      : {}),
    podSecurity: { default: values.PREVIEW_POD_SECURITY, max: values.PREVIEW_POD_SECURITY_MAX },
    previewVolumeFence: {
      allowedCsiDrivers: values.PREVIEW_ALLOW_CSI_DRIVERS ?? [],
      ...(values.PREVIEW_ALLOW_STORAGE_CLASSES !== undefined
        ? { allowedStorageClasses: values.PREVIEW_ALLOW_STORAGE_CLASSES }
        : {}),
    },
    ...(values.PREVIEW_STORE_LIMIT_MIB !== undefined
      ? { previewStoreQuotaBytes: values.PREVIEW_STORE_LIMIT_MIB * 1024 ** 2 }
      : {}),
    ...(values.BASE_DOMAIN !== undefined ? { baseDomain: values.BASE_DOMAIN } : {}),
    urlStyle: {
      scheme: values.PREVIEW_URL_SCHEME,
      ...(values.PREVIEW_URL_PORT !== undefined ? { port: values.PREVIEW_URL_PORT } : {}),
    },
    provider: values.VCLUSTER_PROVIDER,
    workerConcurrency: values.WORKER_CONCURRENCY,
    sweepIntervalMs: values.SWEEP_INTERVAL,
    ...wakerAddressFor(role, values.PREVIEW_WAKER_ADDRESS, values.HOST, values.PORT),
    wakeTimeoutMs: values.PREVIEW_WAKE_TIMEOUT,
    ...(values.MAX_PREVIEWS !== undefined ? { maxPreviews: values.MAX_PREVIEWS } : {}),
    rateLimits: {
      webhooksPerMinute: values.RATE_LIMIT_WEBHOOKS_PER_MINUTE,
      apiCallsPerMinute: values.RATE_LIMIT_API_PER_MINUTE,
    },
    ...(values.MAX_PREVIEWS_PER_INSTALLATION !== undefined
      ? { maxPreviewsPerInstallation: values.MAX_PREVIEWS_PER_INSTALLATION }
      : {}),
    oidcIssuer:
      values.OIDC_ISSUER ??
      (values.GHE_HOST
        ? `${values.GHE_PROTOCOL}://${values.GHE_HOST}/_services/token`
        : GITHUB_ACTIONS_ISSUER),
    ...(values.PUBLIC_URL !== undefined ? { publicUrl: values.PUBLIC_URL } : {}),
    ...(values.PREVIEW_TRAFFIC_METRICS_URL !== undefined
      ? { trafficMetricsUrl: values.PREVIEW_TRAFFIC_METRICS_URL }
      : {}),
    ...((values.API_AUDIENCE ?? values.PUBLIC_URL) !== undefined
      ? { apiAudience: values.API_AUDIENCE ?? values.PUBLIC_URL }
      : {}),
    ...(values.STATUS_PAGE_AUTH !== undefined ? { statusPageAuth: values.STATUS_PAGE_AUTH } : {}),
    hostSecrets: values.PREVIEW_HOST_SECRETS,
    hostSecretsNamespace: values.PREVIEW_HOST_SECRETS_NAMESPACE,
  };
}

/**
 * PREVIEW_WAKER_ADDRESS, or the `all` role's own listening address (it serves the waker itself):
 * HOST, or for 0.0.0.0 this machine's first address that is not loopback (an EndpointSlice may not
 * hold a loopback address). A loopback HOST gives none.
 */
function wakerAddressFor(
  role: ServiceRole,
  set: WakerAddress | undefined,
  host: string,
  port: number,
): { wakerAddress?: WakerAddress } {
  if (set) return { wakerAddress: set };
  if (role !== 'all' || port === 0) return {};
  const ip = /^(0\.0\.0\.0|::|\[::\])$/.test(host)
    ? Object.values(networkInterfaces())
        .flat()
        .find((address) => address?.family === 'IPv4' && !address.internal)?.address
    : host;
  const own = ip && !/^127\.|^::1$/.test(ip) ? parseWakerAddress(`${ip}:${port}`) : undefined;
  return own ? { wakerAddress: own } : {};
}
