import { fileURLToPath } from 'node:url';
import type {
  V1ClusterRole,
  V1Deployment,
  V1Ingress,
  V1PodSpec,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runBinary } from '../support/kubectl.ts';

const chart = fileURLToPath(new URL('../../charts/vcluster-preview', import.meta.url));
const required = [
  'github.appId=12345',
  'github.privateKey=-----BEGIN PRIVATE KEY-----',
  'github.webhookSecret=s3cret',
  'previews.baseDomain=preview.example.com',
];

interface Rendered {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  rules?: unknown;
}

async function render(...sets: string[]): Promise<Rendered[]> {
  const args = ['template', 'vcp', chart, '--namespace', 'vcp-system', '--skip-tests'];
  // `key={json}` for a value whose keys have dots or slashes (`--set-json`).
  for (const set of [...required, ...sets]) args.push(/^[\w.]+=[{[]/.test(set) ? '--set-json' : '--set', set);
  return parseAllDocuments(await runBinary('helm', args))
    .map((doc) => doc.toJS() as Rendered | null)
    .filter((o): o is Rendered => o !== null);
}

async function helmFails(args: string[]): Promise<string> {
  try {
    await runBinary('helm', args);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error(`helm ${args.join(' ')} succeeded but was expected to fail`);
}

const ids = (objects: Rendered[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const find = <T>(objects: Rendered[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered; got ${ids(objects).join(', ')}`);
  return found as unknown as T;
};
const envOf = (spec: V1PodSpec) =>
  Object.fromEntries((spec.containers[0]!.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

describe('charts/vcluster-preview: lint and render', () => {
  it('passes helm lint --strict with the required values, and names each missing one', async () => {
    const sets = required.flatMap((set) => ['--set', set]);
    expect(await runBinary('helm', ['lint', '--strict', chart, ...sets])).toContain('0 chart(s) failed');
    // values.schema.json: unknown keys and a bad domain are errors before anything renders.
    expect(await helmFails(['template', chart, ...sets, '--set', 'previews.baseDomian=x'])).toMatch(
      /additional properties 'baseDomian' not allowed/i,
    );
    expect(
      await helmFails(['template', chart, ...sets, '--set', 'previews.baseDomain=not a domain']),
    ).toMatch(/baseDomain/);
    expect(await helmFails(['template', chart, '--set', 'github.appId=1'])).toMatch(/baseDomain|privateKey/);
  });

  it('renders web, worker, Redis with its volume, RBAC, Ingress and budgets', async () => {
    expect(ids(await render())).toEqual([
      'ClusterRole/vcp-vcluster-preview',
      'ClusterRoleBinding/vcp-vcluster-preview',
      'ConfigMap/vcp-vcluster-preview',
      'Deployment/vcp-vcluster-preview-web',
      'Deployment/vcp-vcluster-preview-worker',
      'Ingress/vcp-vcluster-preview',
      'NetworkPolicy/vcp-vcluster-preview-redis',
      'PodDisruptionBudget/vcp-vcluster-preview-web',
      'PodDisruptionBudget/vcp-vcluster-preview-worker',
      'Secret/vcp-vcluster-preview-github',
      'Service/vcp-vcluster-preview',
      'Service/vcp-vcluster-preview-redis',
      'ServiceAccount/vcp-vcluster-preview',
      'StatefulSet/vcp-vcluster-preview-redis',
    ]);
    // `helm test` checks readiness through the Service once installed.
    const sets = required.flatMap((set) => ['--set', set]);
    const hook = await runBinary('helm', [
      'template',
      'vcp',
      chart,
      ...sets,
      '--show-only',
      'templates/tests/test-connection.yaml',
    ]);
    expect(hook).toContain('helm.sh/hook: test');
    expect(hook).toContain('http://vcp-vcluster-preview/readyz');
  });

  it('runs every container non-root on a read-only root file system, with probes', async () => {
    const objects = await render();
    const pods = [
      find<V1Deployment>(objects, 'Deployment', 'vcp-vcluster-preview-web').spec!.template.spec!,
      find<V1Deployment>(objects, 'Deployment', 'vcp-vcluster-preview-worker').spec!.template.spec!,
      find<V1StatefulSet>(objects, 'StatefulSet', 'vcp-vcluster-preview-redis').spec!.template.spec!,
    ];
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.livenessProbe).toBeDefined();
        expect(c.readinessProbe).toBeDefined();
      }
    }
  });

  it('gives web and worker the App, Redis and preview settings, the worker the kubernetes provider', async () => {
    const objects = await render('previews.urlScheme=http', 'previews.urlPort=8080', 'worker.concurrency=4');
    const worker = find<V1Deployment>(objects, 'Deployment', 'vcp-vcluster-preview-worker').spec!.template;
    expect(worker.spec!.containers[0]!.args).toEqual(['serve', '--role', 'worker']);
    expect(envOf(worker.spec!)).toMatchObject({
      APP_ID: '12345',
      REDIS_URL: 'redis://vcp-vcluster-preview-redis:6379/0',
      BASE_DOMAIN: 'preview.example.com',
      PREVIEW_URL_SCHEME: 'http',
      PREVIEW_URL_PORT: '8080',
      VCLUSTER_PROVIDER: 'kubernetes',
      WORKER_CONCURRENCY: '4',
      PRIVATE_KEY: { secretKeyRef: { name: 'vcp-vcluster-preview-github', key: 'private-key' } },
    });
    // The App's key is in the Secret, never in the pod spec.
    expect(JSON.stringify(worker)).not.toContain('BEGIN PRIVATE KEY');
    // A changed setting rolls the pods.
    expect(worker.metadata?.annotations?.['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses an external Redis and an existing Secret when told, and makes neither', async () => {
    const objects = await render(
      'redis.bundled=false',
      'redis.url=redis://redis.example:6379/2',
      'github.existingSecret=my-app',
    );
    expect(ids(objects).filter((id) => /redis|Secret\//.test(id))).toEqual([]);
    const web = find<V1Deployment>(objects, 'Deployment', 'vcp-vcluster-preview-web').spec!.template.spec!;
    expect(envOf(web)).toMatchObject({
      REDIS_URL: 'redis://redis.example:6379/2',
      WEBHOOK_SECRET: { secretKeyRef: { name: 'my-app', key: 'webhook-secret' } },
    });
  });

  it('grants the worker what previews hold and no cluster-scoped writes but namespaces', async () => {
    const role = find<V1ClusterRole>(await render(), 'ClusterRole', 'vcp-vcluster-preview');
    const writes = ['create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind'];
    const writable = role
      .rules!.filter((r) => r.verbs.some((v) => writes.includes(v)))
      .flatMap((r) => r.resources!);
    expect(writable).toContain('namespaces');
    for (const clusterScoped of ['clusterroles', 'clusterrolebindings', 'nodes', 'persistentvolumes', '*'])
      expect(writable).not.toContain(clusterScoped);
    expect(role.rules!.some((r) => r.verbs.includes('*') || r.resources!.includes('*'))).toBe(false);
    // Teardown deletes a namespace's pods as a collection first (kube/pods.ts).
    expect(role.rules!.find((r) => r.resources!.includes('pods'))!.verbs).toContain('deletecollection');
    // Each preview's chart is installed without a ClusterRole of its own.
    const settings = find<Rendered>(await render(), 'ConfigMap', 'vcp-vcluster-preview');
    expect(settings.data!['vcluster-values.yaml']).toMatch(/clusterRole:\s+enabled: false/);
  });

  it('lets each preview’s workloads be reached from the service’s namespace only when it wakes previews (its web pod passes the first request on)', async () => {
    const previewValues = async (...sets: string[]) =>
      parseAllDocuments(
        find<Rendered>(await render(...sets), 'ConfigMap', 'vcp-vcluster-preview').data![
          'vcluster-values.yaml'
        ]!,
      )[0]!.toJS() as { isolation: { networkPolicy: Record<string, { allowFromNamespaces?: string[] }> } };
    const waking = await previewValues('previews.wakerAddress=10.96.0.10:80');
    expect(waking.isolation.networkPolicy.workloads?.allowFromNamespaces).toEqual(['vcp-system']);
    expect(waking.isolation.networkPolicy.controlPlane?.allowFromNamespaces).toEqual(['vcp-system']);
    expect((await previewValues()).isolation.networkPolicy.workloads).toBeUndefined();
  });

  it('lets the worker read only the allowed host Secrets, by name, in their namespace, and tells it which (PREVIEW_HOST_SECRETS)', async () => {
    const allow = 'hostSecrets.allow={"acme/shop":["shop-db","stripe"],"acme/*":["stripe"]}';
    const objects = await render(allow, 'hostSecrets.namespace=ops-secrets');
    const role = find<Rendered & { metadata: { namespace?: string } }>(
      objects,
      'Role',
      'vcp-vcluster-preview-host-secrets',
    );
    expect(role.metadata.namespace).toBe('ops-secrets');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['shop-db', 'stripe'], verbs: ['get'] },
    ]);
    const binding = find<Rendered & { subjects?: unknown; roleRef?: unknown }>(
      objects,
      'RoleBinding',
      'vcp-vcluster-preview-host-secrets',
    );
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'vcp-vcluster-preview', namespace: 'vcp-system' },
    ]);
    const worker = find<V1Deployment>(objects, 'Deployment', 'vcp-vcluster-preview-worker').spec!.template
      .spec!;
    expect(JSON.parse(String(envOf(worker).PREVIEW_HOST_SECRETS))).toEqual({
      'acme/shop': ['shop-db', 'stripe'],
      'acme/*': ['stripe'],
    });
    expect(envOf(worker).PREVIEW_HOST_SECRETS_NAMESPACE).toBe('ops-secrets');
    // Without a namespace, the release's own.
    const inRelease = find<Rendered & { metadata: { namespace?: string } }>(
      await render(allow),
      'Role',
      'vcp-vcluster-preview-host-secrets',
    );
    expect(inRelease.metadata.namespace).toBe('vcp-system');
    // None allowed: no grant, no setting.
    const none = await render();
    expect(ids(none).filter((id) => id.includes('host-secrets'))).toEqual([]);
    expect(
      envOf(find<V1Deployment>(none, 'Deployment', 'vcp-vcluster-preview-worker').spec!.template.spec!),
    ).not.toHaveProperty('PREVIEW_HOST_SECRETS');
    const sets = required.flatMap((set) => ['--set', set]);
    expect(
      await helmFails([
        'template',
        chart,
        ...sets,
        '--set-json',
        'hostSecrets.allow={"acme/shop":["Shop DB"]}',
      ]),
    ).toMatch(/hostSecrets\/allow/);
  });

  it('asks for the status page login of statusPage.auth (STATUS_PAGE_AUTH on web only), open without one', async () => {
    const webEnv = (objects: Rendered[]) =>
      envOf(find<V1Deployment>(objects, 'Deployment', 'vcp-vcluster-preview-web').spec!.template.spec!);
    const workerEnv = (objects: Rendered[]) =>
      envOf(find<V1Deployment>(objects, 'Deployment', 'vcp-vcluster-preview-worker').spec!.template.spec!);

    const open = await render();
    expect(webEnv(open)).not.toHaveProperty('STATUS_PAGE_AUTH');
    expect(ids(open)).not.toContain('Secret/vcp-vcluster-preview-status-page');

    const login = await render('statusPage.auth.username=admin', 'statusPage.auth.password=s3:cr3t');
    const secret = find<Rendered & { stringData: Record<string, string> }>(
      login,
      'Secret',
      'vcp-vcluster-preview-status-page',
    );
    expect(secret.stringData).toEqual({ auth: 'admin:s3:cr3t' });
    expect(webEnv(login).STATUS_PAGE_AUTH).toEqual({
      secretKeyRef: { name: 'vcp-vcluster-preview-status-page', key: 'auth' },
    });
    expect(workerEnv(login)).not.toHaveProperty('STATUS_PAGE_AUTH');
    // The password is in the Secret, never in the pod spec.
    expect(JSON.stringify(login.filter((o) => o.kind === 'Deployment'))).not.toContain('s3:cr3t');

    const theirs = await render('statusPage.auth.existingSecret=my-login');
    expect(ids(theirs)).not.toContain('Secret/vcp-vcluster-preview-status-page');
    expect(webEnv(theirs).STATUS_PAGE_AUTH).toEqual({ secretKeyRef: { name: 'my-login', key: 'auth' } });

    const sets = required.flatMap((set) => ['--set', set]);
    expect(await helmFails(['template', chart, ...sets, '--set', 'statusPage.auth.username=admin'])).toMatch(
      /statusPage.auth needs both username and password/,
    );
    expect(await helmFails(['template', chart, ...sets, '--set', 'statusPage.auth.username=ad:min'])).toMatch(
      /statusPage\/auth\/username/,
    );
  });

  it('serves webhooks, API and status page at the Ingress host, with TLS when given', async () => {
    const ingress = find<V1Ingress>(
      await render(
        'ingress.host=previews.example.com',
        'ingress.tlsSecretName=wildcard',
        'ingress.className=nginx',
      ),
      'Ingress',
      'vcp-vcluster-preview',
    );
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['previews.example.com'], secretName: 'wildcard' }],
      rules: [{ host: 'previews.example.com' }],
    });
  });

  it('hands the operator’s Pod Security level and cap, CSI drivers, storage classes and store limit to the worker; no driver or class set, neither variable', async () => {
    const workerEnv = async (...sets: string[]) =>
      envOf(
        find<V1Deployment>(await render(...sets), 'Deployment', 'vcp-vcluster-preview-worker').spec!.template
          .spec!,
      );
    expect(
      await workerEnv(
        'previews.allowedCsiDrivers=["ebs.csi.aws.com"]',
        'previews.allowedStorageClasses=["fast","gp3"]',
      ),
    ).toMatchObject({
      PREVIEW_ALLOW_CSI_DRIVERS: 'ebs.csi.aws.com',
      PREVIEW_ALLOW_STORAGE_CLASSES: 'fast,gp3',
    });
    const defaults = await workerEnv();
    expect(defaults).toMatchObject({
      PREVIEW_POD_SECURITY: 'restricted',
      PREVIEW_POD_SECURITY_MAX: 'baseline',
    });
    expect(
      await workerEnv('previews.podSecurity=baseline', 'previews.podSecurityMax=restricted'),
    ).toMatchObject({
      PREVIEW_POD_SECURITY: 'baseline',
      PREVIEW_POD_SECURITY_MAX: 'restricted',
    });
    expect(defaults).not.toHaveProperty('PREVIEW_ALLOW_CSI_DRIVERS');
    expect(defaults).not.toHaveProperty('PREVIEW_ALLOW_STORAGE_CLASSES');
    // The store limit: unset, the vcluster chart's own value.
    expect(defaults).not.toHaveProperty('PREVIEW_STORE_LIMIT_MIB');
    expect(await workerEnv('previews.storeLimitMiB=512')).toMatchObject({ PREVIEW_STORE_LIMIT_MIB: '512' });
  });

  it('tells the service where it is reached (the value, else https://<ingress.host>), which is also its API audience', async () => {
    const envFor = async (...sets: string[]) =>
      envOf(
        find<V1Deployment>(await render(...sets), 'Deployment', 'vcp-vcluster-preview-web').spec!.template
          .spec!,
      );
    expect(await envFor('ingress.host=previews.example.com')).toMatchObject({
      PUBLIC_URL: 'https://previews.example.com',
    });
    expect((await envFor('ingress.host=previews.example.com')).API_AUDIENCE).toBeUndefined();
    expect(
      await envFor(
        'ingress.host=previews.example.com',
        'publicUrl=https://x.example.com',
        'api.audience=https://api.example.com',
      ),
    ).toMatchObject({ PUBLIC_URL: 'https://x.example.com', API_AUDIENCE: 'https://api.example.com' });
    // Neither: the API says it is not set up (503) rather than taking any service's tokens.
    expect(await envFor()).not.toHaveProperty('PUBLIC_URL');
    const sets = required.flatMap((set) => ['--set', set]);
    expect(await helmFails(['template', chart, ...sets, '--set', 'api.audience=vcluster-preview'])).toMatch(
      /api\/audience/,
    );
  });
});
