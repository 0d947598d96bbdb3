import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig, readUrlStyle, ServiceConfigError } from './service-config.ts';

const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const base = {
  APP_ID: '123',
  PRIVATE_KEY: pem,
  WEBHOOK_SECRET: 's3cret',
  REDIS_URL: 'redis://127.0.0.1:6379',
  BASE_DOMAIN: 'preview.example.com',
};

const problemsOf = (env: Record<string, string | undefined>, role: 'all' | 'web' | 'worker' = 'all') => {
  try {
    loadServiceConfig(env, role, { readFile: () => pem });
  } catch (error) {
    if (error instanceof ServiceConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('loadServiceConfig', () => {
  it('reads a complete environment with defaults', () => {
    const config = loadServiceConfig(base, 'all');
    expect(config).toMatchObject({
      role: 'all',
      appId: 123,
      webhookSecret: 's3cret',
      logLevel: 'info',
      githubBaseUrl: 'https://api.github.com',
      gheProtocol: 'https',
      port: 3000,
      host: '0.0.0.0',
      redisUrl: 'redis://127.0.0.1:6379',
      baseDomain: 'preview.example.com',
      provider: 'local',
    });
    expect(config.privateKey).toContain('BEGIN PRIVATE KEY');
  });

  it('lets the App be missing all together only where the caller says so (npm start before an App exists)', () => {
    const { APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, ...withoutApp } = base;
    const config = loadServiceConfig(withoutApp, 'all', { githubApp: 'optional' });
    expect(config).not.toHaveProperty('appId');
    expect(config).not.toHaveProperty('privateKey');
    expect(config.baseDomain).toBe('preview.example.com');
    // By default, and whenever part of the App is given, every missing setting is a problem.
    expect(problemsOf(withoutApp)).toEqual([
      expect.stringMatching(/^APP_ID is required/),
      expect.stringMatching(/^PRIVATE_KEY or PRIVATE_KEY_PATH is required/),
      expect.stringMatching(/^WEBHOOK_SECRET is required/),
    ]);
    expect(() => loadServiceConfig({ ...withoutApp, APP_ID }, 'all', { githubApp: 'optional' })).toThrow(
      /PRIVATE_KEY or PRIVATE_KEY_PATH is required/,
    );
  });

  it('reads the operator’s preview settings: IngressClass and charts/vcluster values file', () => {
    expect(loadServiceConfig(base, 'all')).not.toHaveProperty('previewIngressClass');
    expect(
      loadServiceConfig(
        { ...base, PREVIEW_INGRESS_CLASS: 'traefik', VCLUSTER_VALUES_FILE: '/etc/v.yaml' },
        'all',
      ),
    ).toMatchObject({ previewIngressClass: 'traefik', vclusterValuesFile: '/etc/v.yaml' });
    expect(problemsOf({ ...base, PREVIEW_INGRESS_CLASS: 'Not A Class' })).toEqual([
      expect.stringMatching(/^PREVIEW_INGRESS_CLASS must be an IngressClass name, like nginx or traefik/),
    ]);
  });

  it('reads which host Secrets repositories may copy, and from which namespace', () => {
    expect(loadServiceConfig(base, 'all')).toMatchObject({
      hostSecrets: {},
      hostSecretsNamespace: 'default',
    });
    expect(
      loadServiceConfig(
        {
          ...base,
          PREVIEW_HOST_SECRETS: '{"acme/shop": ["db-creds"], "acme/*": ["shared"], "*": []}',
          PREVIEW_HOST_SECRETS_NAMESPACE: 'preview-secrets',
        },
        'worker',
      ),
    ).toMatchObject({
      hostSecrets: { 'acme/shop': ['db-creds'], 'acme/*': ['shared'], '*': [] },
      hostSecretsNamespace: 'preview-secrets',
    });
  });

  it.each([
    ['{acme/shop: [db]}', /^PREVIEW_HOST_SECRETS is not JSON/],
    ['["db"]', /^PREVIEW_HOST_SECRETS must be a JSON object/],
    ['{"acme": ["db"]}', /^PREVIEW_HOST_SECRETS has a key that is not owner\/repo, owner\/\* or \*/],
    ['{"acme/shop": "db"}', /^PREVIEW_HOST_SECRETS maps a repository to something other than a list/],
    ['{"acme/shop": ["DB_creds"]}', /^PREVIEW_HOST_SECRETS lists a name that is not a Secret name/],
  ])('names PREVIEW_HOST_SECRETS when it is %s', (value, message) => {
    expect(problemsOf({ ...base, PREVIEW_HOST_SECRETS: value })).toEqual([expect.stringMatching(message)]);
  });

  it('reads where the traffic metrics are, and names PREVIEW_TRAFFIC_METRICS_URL when it is no URL', () => {
    expect(loadServiceConfig(base, 'worker').trafficMetricsUrl).toBeUndefined();
    expect(
      loadServiceConfig({ ...base, PREVIEW_TRAFFIC_METRICS_URL: 'http://127.0.0.1:9100/metrics' }, 'worker')
        .trafficMetricsUrl,
    ).toBe('http://127.0.0.1:9100/metrics');
    expect(problemsOf({ ...base, PREVIEW_TRAFFIC_METRICS_URL: 'traefik:9100' })).toEqual([
      expect.stringMatching(
        /^PREVIEW_TRAFFIC_METRICS_URL must be the http\(s\):\/\/ URL of the ingress controller/,
      ),
    ]);
  });

  it('names PREVIEW_HOST_SECRETS_NAMESPACE when it is not a namespace', () => {
    expect(problemsOf({ ...base, PREVIEW_HOST_SECRETS_NAMESPACE: 'Secrets!' })).toEqual([
      expect.stringMatching(/^PREVIEW_HOST_SECRETS_NAMESPACE must be a namespace name/),
    ]);
  });

  it.each<{ env: Record<string, string>; fence: object }>([
    // Default: no CSI driver, any storage class (an unset class is the host's default anyway).
    { env: {}, fence: { allowedCsiDrivers: [] } },
    { env: { PREVIEW_ALLOW_STORAGE_CLASSES: '  ' }, fence: { allowedCsiDrivers: [] } },
    {
      env: {
        PREVIEW_ALLOW_CSI_DRIVERS: 'ebs.csi.aws.com, secrets-store.csi.k8s.io,',
        PREVIEW_ALLOW_STORAGE_CLASSES: 'fast,fast,standard',
      },
      fence: {
        allowedCsiDrivers: ['ebs.csi.aws.com', 'secrets-store.csi.k8s.io'],
        allowedStorageClasses: ['fast', 'standard'],
      },
    },
  ])('reads the volume fence from $env', ({ env, fence }) => {
    expect(loadServiceConfig({ ...base, ...env }, 'all').previewVolumeFence).toEqual(fence);
  });

  it.each<{ env: Record<string, string>; podSecurity: object }>([
    { env: {}, podSecurity: { default: 'restricted', max: 'baseline' } },
    {
      env: { PREVIEW_POD_SECURITY: 'Baseline', PREVIEW_POD_SECURITY_MAX: 'restricted' },
      podSecurity: { default: 'baseline', max: 'restricted' },
    },
    {
      env: { PREVIEW_POD_SECURITY: ' ', PREVIEW_POD_SECURITY_MAX: '' },
      podSecurity: { default: 'restricted', max: 'baseline' },
    },
  ])('reads the Pod Security level and cap from $env', ({ env, podSecurity }) => {
    expect(loadServiceConfig({ ...base, ...env }, 'all').podSecurity).toEqual(podSecurity);
  });

  it.each<{ env: Record<string, string>; bytes: number | undefined }>([
    { env: {}, bytes: undefined },
    { env: { PREVIEW_STORE_LIMIT_MIB: ' ' }, bytes: undefined },
    { env: { PREVIEW_STORE_LIMIT_MIB: '64' }, bytes: 64 * 1024 * 1024 },
  ])('reads the store limit from $env', ({ env, bytes }) => {
    expect(loadServiceConfig({ ...base, ...env }, 'all').previewStoreQuotaBytes).toBe(bytes);
  });

  it('names a store limit that is too small or not a number', () => {
    expect(problemsOf({ ...base, PREVIEW_STORE_LIMIT_MIB: '8' })).toEqual([
      expect.stringMatching(/^PREVIEW_STORE_LIMIT_MIB must be at least 16 MiB/),
    ]);
    expect(problemsOf({ ...base, PREVIEW_STORE_LIMIT_MIB: '1Gi' })).toEqual([
      expect.stringMatching(/^PREVIEW_STORE_LIMIT_MIB must be a whole number of MiB/),
    ]);
  });

  it('names a Pod Security level that is none', () => {
    expect(problemsOf({ ...base, PREVIEW_POD_SECURITY_MAX: 'strict' })).toEqual([
      expect.stringMatching(
        /^PREVIEW_POD_SECURITY_MAX must be a Pod Security level: privileged, baseline, restricted/,
      ),
    ]);
  });

  it('names a malformed CSI driver or storage class list', () => {
    expect(problemsOf({ ...base, PREVIEW_ALLOW_CSI_DRIVERS: 'good.csi,bad driver' })).toEqual([
      expect.stringMatching(/^PREVIEW_ALLOW_CSI_DRIVERS must be CSI driver names separated by commas/),
    ]);
    expect(problemsOf({ ...base, PREVIEW_ALLOW_STORAGE_CLASSES: 'Fast' })).toEqual([
      expect.stringMatching(/^PREVIEW_ALLOW_STORAGE_CLASSES must be StorageClass names separated by commas/),
    ]);
  });

  it('routes sleeping previews to PREVIEW_WAKER_ADDRESS, or to the all role’s own outside address', () => {
    expect(
      loadServiceConfig({ ...base, PREVIEW_WAKER_ADDRESS: '10.96.0.20:3000' }, 'worker').wakerAddress,
    ).toEqual({
      ip: '10.96.0.20',
      port: 3000,
    });
    expect(loadServiceConfig({ ...base, HOST: '10.87.1.1', PORT: '4000' }, 'all').wakerAddress).toEqual({
      ip: '10.87.1.1',
      port: 4000,
    });
    // A worker alone does not serve the waker, and a loopback address cannot be an endpoint.
    expect(loadServiceConfig({ ...base, HOST: '10.87.1.1' }, 'worker').wakerAddress).toBeUndefined();
    expect(loadServiceConfig({ ...base, HOST: '127.0.0.1' }, 'all').wakerAddress).toBeUndefined();
    expect(problemsOf({ ...base, PREVIEW_WAKER_ADDRESS: 'waker:80' })).toEqual([
      'PREVIEW_WAKER_ADDRESS must be an IP address and port the ingress controller reaches the service at, like 10.96.0.20:3000 (got "waker:80")',
    ]);
    expect(problemsOf({ ...base, PREVIEW_WAKER_ADDRESS: '127.0.0.1:3000' })[0]).toContain(
      'PREVIEW_WAKER_ADDRESS may not be a loopback address',
    );
  });

  it('holds a request for a waking preview 20 s unless PREVIEW_WAKE_TIMEOUT says otherwise', () => {
    expect(loadServiceConfig(base, 'all').wakeTimeoutMs).toBe(20_000);
    expect(loadServiceConfig({ ...base, PREVIEW_WAKE_TIMEOUT: '1m' }, 'web').wakeTimeoutMs).toBe(60_000);
    expect(problemsOf({ ...base, PREVIEW_WAKE_TIMEOUT: 'soon' })).toEqual([
      'PREVIEW_WAKE_TIMEOUT must be a duration like 20s or 1m (got "soon")',
    ]);
  });

  it('sweeps every 5 minutes unless SWEEP_INTERVAL says otherwise', () => {
    expect(loadServiceConfig(base, 'all').sweepIntervalMs).toBe(300_000);
    expect(loadServiceConfig({ ...base, SWEEP_INTERVAL: ' ' }, 'all').sweepIntervalMs).toBe(300_000);
    expect(loadServiceConfig({ ...base, SWEEP_INTERVAL: '30s' }, 'all').sweepIntervalMs).toBe(30_000);
    expect(loadServiceConfig({ ...base, SWEEP_INTERVAL: '1h30m' }, 'worker').sweepIntervalMs).toBe(5_400_000);
    for (const bad of ['5', 'five minutes', '0m', '-5m']) {
      expect(problemsOf({ ...base, SWEEP_INTERVAL: bad }), bad).toEqual([
        `SWEEP_INTERVAL must be a duration like 5m, 30s or 1h (got "${bad}")`,
      ]);
    }
  });

  it('reads the preview caps as optional positive whole numbers', () => {
    const unlimited = loadServiceConfig(base, 'all');
    expect(unlimited).not.toHaveProperty('maxPreviews');
    expect(unlimited).not.toHaveProperty('maxPreviewsPerInstallation');
    expect(
      loadServiceConfig({ ...base, MAX_PREVIEWS: '20', MAX_PREVIEWS_PER_INSTALLATION: ' 5 ' }, 'all'),
    ).toMatchObject({ maxPreviews: 20, maxPreviewsPerInstallation: 5 });
    expect(loadServiceConfig({ ...base, WORKER_CONCURRENCY: '4' }, 'all').workerConcurrency).toBe(4);
    expect(loadServiceConfig(base, 'all').workerConcurrency).toBe(2);
    expect(problemsOf({ ...base, WORKER_CONCURRENCY: '0' })).toEqual([
      'WORKER_CONCURRENCY must be between 1 and 64',
    ]);
    expect(problemsOf({ ...base, WORKER_CONCURRENCY: 'many' })).toEqual([
      'WORKER_CONCURRENCY must be a whole number of jobs at once, like 2',
    ]);
    expect(problemsOf({ ...base, MAX_PREVIEWS: '0', MAX_PREVIEWS_PER_INSTALLATION: 'ten' })).toEqual([
      'MAX_PREVIEWS must be at least 1 (leave it unset for no limit)',
      'MAX_PREVIEWS_PER_INSTALLATION must be a whole number of previews, like 20 (leave it unset for no limit)',
    ]);
    expect(problemsOf({ ...base, MAX_PREVIEWS: '2.5' })).toEqual([
      expect.stringMatching(/^MAX_PREVIEWS must be a whole number/),
    ]);
  });

  it('reads the status page login from STATUS_PAGE_AUTH (user:password), open when unset', () => {
    expect(loadServiceConfig(base, 'web')).not.toHaveProperty('statusPageAuth');
    expect(loadServiceConfig({ ...base, STATUS_PAGE_AUTH: ' ' }, 'web')).not.toHaveProperty('statusPageAuth');
    // Only the first `:` splits: a password may hold more of them.
    expect(loadServiceConfig({ ...base, STATUS_PAGE_AUTH: 'admin:s3:cr3t' }, 'web').statusPageAuth).toEqual({
      username: 'admin',
      password: 's3:cr3t',
    });
    for (const wrong of ['admin', 'admin:', ':s3cret'])
      expect(problemsOf({ ...base, STATUS_PAGE_AUTH: wrong }, 'web')).toEqual([
        expect.stringMatching(/^STATUS_PAGE_AUTH must be user:password, like admin:s3cret/),
      ]);
  });

  it('points at GitHub Enterprise Server with GHE_HOST and GHE_PROTOCOL', () => {
    const config = loadServiceConfig({ ...base, GHE_HOST: '127.0.0.1:8080', GHE_PROTOCOL: 'http' }, 'web');
    expect(config.githubBaseUrl).toBe('http://127.0.0.1:8080/api/v3');
    expect(problemsOf({ ...base, GHE_HOST: 'https://ghe.example.com' })).toEqual([
      expect.stringMatching(/^GHE_HOST is a host name without a scheme/),
    ]);
  });

  it('accepts GitHub Actions OIDC tokens from github.com, or from the GHE_HOST, for the API audience', () => {
    const plain = loadServiceConfig(base, 'web');
    expect(plain.oidcIssuer).toBe('https://token.actions.githubusercontent.com');
    // No shared default: without an audience of its own the API takes no token.
    expect(plain.apiAudience).toBeUndefined();
    expect(
      loadServiceConfig({ ...base, API_AUDIENCE: 'https://previews.example.com/' }, 'web').apiAudience,
    ).toBe('https://previews.example.com');
    // PUBLIC_URL is the audience unless one is set.
    expect(loadServiceConfig({ ...base, PUBLIC_URL: 'https://previews.example.com/' }, 'web')).toMatchObject({
      publicUrl: 'https://previews.example.com',
      apiAudience: 'https://previews.example.com',
    });
    expect(problemsOf({ ...base, PUBLIC_URL: 'previews.example.com' })).toEqual([
      expect.stringMatching(/^PUBLIC_URL must be the http\(s\):\/\/ URL this service is reached at/),
    ]);
    expect(problemsOf({ ...base, API_AUDIENCE: 'vcluster-preview' })).toEqual([
      expect.stringMatching(/^API_AUDIENCE must be this installation's own/),
    ]);
    expect(
      loadServiceConfig({ ...base, GHE_HOST: 'ghe.example.com', API_AUDIENCE: ' previews ' }, 'web'),
    ).toMatchObject({ oidcIssuer: 'https://ghe.example.com/_services/token', apiAudience: 'previews' });
    expect(
      loadServiceConfig({ ...base, GHE_HOST: 'ghe.example.com', OIDC_ISSUER: 'https://issuer.test/' }, 'web')
        .oidcIssuer,
    ).toBe('https://issuer.test');
    expect(problemsOf({ ...base, OIDC_ISSUER: 'token.actions.githubusercontent.com' })).toEqual([
      expect.stringMatching(/^OIDC_ISSUER must be the https:\/\/ URL of the token issuer/),
    ]);
  });

  it('accepts the key as one line with \\n escapes, base64, or a file', () => {
    expect(loadServiceConfig({ ...base, PRIVATE_KEY: pem.replace(/\n/g, '\\n') }, 'all').privateKey).toBe(
      pem,
    );
    expect(
      loadServiceConfig({ ...base, PRIVATE_KEY: Buffer.from(pem).toString('base64') }, 'all').privateKey,
    ).toBe(pem);
    const fromFile = loadServiceConfig(
      { ...base, PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: '/k.pem' },
      'all',
      {
        readFile: () => pem,
      },
    );
    expect(fromFile.privateKey).toBe(pem);
  });

  it('names every variable that is wrong, all at once', () => {
    const problems = problemsOf({
      APP_ID: 'my-app',
      PRIVATE_KEY: 'not a key',
      REDIS_URL: 'http://localhost:6379',
      PORT: '99999',
      LOG_LEVEL: 'loud',
      VCLUSTER_PROVIDER: 'aws',
      BASE_DOMAIN: 'not a domain',
    });
    const variables = problems.map((problem) => problem.split(' ')[0]);
    expect(variables.sort()).toEqual(
      [
        'APP_ID',
        'BASE_DOMAIN',
        'LOG_LEVEL',
        'PORT',
        'PRIVATE_KEY',
        'REDIS_URL',
        'VCLUSTER_PROVIDER',
        'WEBHOOK_SECRET',
      ].sort(),
    );
    expect(problems.join('\n')).toMatch(/REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('requires what each role needs, and only that', () => {
    const { WEBHOOK_SECRET: _secret, BASE_DOMAIN: _domain, ...common } = base;
    expect(problemsOf(common, 'web')).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET is required for the web role/),
    ]);
    expect(problemsOf(common, 'worker')).toEqual([
      expect.stringMatching(/^BASE_DOMAIN is required for the worker role/),
    ]);
    expect(problemsOf({}, 'web').map((problem) => problem.split(' ')[0])).toEqual([
      'APP_ID',
      'REDIS_URL',
      'PRIVATE_KEY',
      'WEBHOOK_SECRET',
    ]);
  });

  it('says when PRIVATE_KEY_PATH cannot be read', () => {
    expect(() =>
      loadServiceConfig({ ...base, PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: '/nonexistent/key.pem' }, 'all'),
    ).toThrow(/PRIVATE_KEY_PATH cannot be read \(\/nonexistent\/key\.pem/);
  });
});

describe('readUrlStyle', () => {
  it('reads PREVIEW_URL_SCHEME and PREVIEW_URL_PORT as the service does, naming a wrong one', () => {
    expect(readUrlStyle({})).toEqual({ scheme: 'https' });
    expect(readUrlStyle({ PREVIEW_URL_SCHEME: 'HTTP', PREVIEW_URL_PORT: '8080' })).toEqual({
      scheme: 'http',
      port: 8080,
    });
    expect(() => readUrlStyle({ PREVIEW_URL_PORT: '99999' })).toThrow(
      /PREVIEW_URL_PORT must be a port number between 1 and 65535/,
    );
    expect(() => readUrlStyle({ PREVIEW_URL_SCHEME: 'ftp' })).toThrow(
      /PREVIEW_URL_SCHEME must be http or https/,
    );
  });
});
