// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rawRequest } from '../../kube/apply.ts';
import { ignoreNotFound } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import {
  COMMIT_ANNOTATION,
  DeployError,
  deployApp,
  describeRef,
  exposePreview,
  MANAGED_LABEL,
  ManifestError,
  previewHost,
  RolloutError,
  readInventory,
  readManifestFiles,
  renderApp,
  renderManifests,
  waitForRollout,
} from '../../preview/deploy/index.ts';
import { parseRepoConfig, REPO_CONFIG_PATH, type RepoConfig } from '../../preview/repo-config.ts';
import { hostName } from '../../syncer/translate/names.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'hello');
const BASE_DOMAIN = 'preview.example.com';
const SHA = 'c0ffee0123456789abcdef0123456789abcdef01';
const WAIT = { timeoutMs: 60_000 };

describe('deploying examples/hello into a virtual cluster', () => {
  let vc: VirtualClusterUnderTest;
  let config: RepoConfig;
  let host: string;
  let values: Record<string, string | number | Record<string, string | number>>;
  let app: KubernetesObject[];

  const readConfigMap = async (name: string): Promise<V1ConfigMap | undefined> => {
    try {
      return await vc.virtual.core.readNamespacedConfigMap({ name, namespace: 'default' });
    } catch (error) {
      return ignoreNotFound(error);
    }
  };
  const configMap = (name: string) => ({
    path: `deploy/${name}.yaml`,
    content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  pr: "\${{ pr.number }}"\n`,
  });

  beforeAll(async () => {
    vc = await startVirtualCluster({ allowedHostSuffix: BASE_DOMAIN });
    config = parseRepoConfig(await readFile(join(EXAMPLE, REPO_CONFIG_PATH), 'utf8'));
    const base = {
      pr: { number: 12 },
      sha: SHA,
      repo: { name: 'hello', owner: 'octo' },
      baseDomain: BASE_DOMAIN,
    };
    host = previewHost(config.urlTemplate, base);
    values = { ...base, preview: { host } };
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('renders, applies, rolls out and exposes the app', async () => {
    expect(host).toBe('pr-12-hello-octo.preview.example.com');
    app = await renderApp({ root: EXAMPLE, config, values });
    const result = await deployApp({ virtual: vc.virtual, objects: app, commit: SHA });
    expect(result.inventory.map(describeRef)).toEqual([
      'ConfigMap default/hello-content',
      'Deployment default/hello',
      'Service default/hello',
    ]);
    expect(result.pruned).toEqual([]);
    await waitForRollout(vc.virtual, app, WAIT);

    const deployment = await vc.virtual.apps.readNamespacedDeployment({
      name: 'hello',
      namespace: 'default',
    });
    expect(deployment.status?.availableReplicas).toBe(2);
    expect(deployment.metadata?.labels?.[MANAGED_LABEL]).toBe('true');
    expect(deployment.metadata?.annotations?.[COMMIT_ANNOTATION]).toBe(SHA);
    expect(deployment.metadata?.managedFields?.map((field) => field.manager)).toContain('vcluster-preview');
    const [container] = deployment.spec?.template.spec?.containers ?? [];
    expect(container?.env).toEqual([{ name: 'PREVIEW_URL', value: `https://${host}` }]);
    expect(container?.resources?.limits).toEqual({ cpu: '200m', memory: '64Mi' }); // its own, not the config's

    const content = await readConfigMap('hello-content');
    expect(content?.data?.pr).toBe('12');
    expect(content?.data?.sha).toBe(SHA);
    expect(content?.data?.['index.html']).toContain('Hello from pull request #12');
    expect((await readInventory(vc.virtual)).map(describeRef)).toEqual(result.inventory.map(describeRef));

    // The syncer has made the host service the Ingress points at.
    const backend = hostName('hello', 'default', vc.name);
    await waitUntil(
      () => vc.host.core.readNamespacedService({ name: backend, namespace: vc.hostNamespace }),
      {
        what: `host service ${backend}`,
        ...WAIT,
      },
    );
    const expose = {
      host: vc.host,
      hostNamespace: vc.hostNamespace,
      vclusterName: vc.name,
      service: config.expose?.service ?? '',
      port: config.expose?.port ?? 0,
      previewHost: host,
    };
    expect(await exposePreview(expose)).toBe(`https://${host}`);
    expect(await exposePreview({ ...expose, ingressClassName: 'nginx', tls: {} })).toBe(`https://${host}`);
    const ingress = await vc.host.networking.readNamespacedIngress({
      name: 'preview',
      namespace: vc.hostNamespace,
    });
    expect(ingress.spec?.ingressClassName).toBe('nginx');
    expect(ingress.spec?.tls).toEqual([{ hosts: [host] }]);
    expect(ingress.spec?.rules).toEqual([
      {
        host,
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: backend, port: { number: 80 } } } },
          ],
        },
      },
    ]);
    // Applying it again without TLS removes TLS: the field manager owns what it last applied.
    await exposePreview(expose);
    const again = await vc.host.networking.readNamespacedIngress({
      name: 'preview',
      namespace: vc.hostNamespace,
    });
    expect(again.spec?.tls).toBeUndefined();
    expect(again.metadata?.uid).toBe(ingress.metadata?.uid);
  });

  it('deploying again changes nothing, and prunes what is no longer rendered, also when its kind changed', async () => {
    const before = await vc.virtual.apps.readNamespacedDeployment({ name: 'hello', namespace: 'default' });
    const same = await deployApp({ virtual: vc.virtual, objects: app, commit: SHA });
    expect(same.pruned).toEqual([]);
    const after = await vc.virtual.apps.readNamespacedDeployment({ name: 'hello', namespace: 'default' });
    expect(after.metadata?.generation).toBe(before.metadata?.generation);

    const files = await readManifestFiles(EXAMPLE, config.manifests ?? []);
    const withExtra = renderManifests([...files, configMap('extra'), configMap('swap')], values, config);
    await deployApp({ virtual: vc.virtual, objects: withExtra, commit: SHA });
    expect((await readConfigMap('extra'))?.data?.pr).toBe('12');
    expect(await readConfigMap('swap')).toBeDefined();

    // `extra` is gone from the manifests, and `swap` became a Secret.
    const swapped = renderManifests(
      [
        ...files,
        {
          path: 'deploy/swap.yaml',
          content: 'apiVersion: v1\nkind: Secret\nmetadata: { name: swap }\nstringData: { a: b }\n',
        },
      ],
      values,
      config,
    );
    const result = await deployApp({ virtual: vc.virtual, objects: swapped, commit: 'next' });
    expect(result.pruned.map(describeRef)).toEqual(['ConfigMap default/extra', 'ConfigMap default/swap']);
    expect(await readConfigMap('extra')).toBeUndefined();
    expect(await readConfigMap('swap')).toBeUndefined();
    expect(await vc.virtual.core.readNamespacedSecret({ name: 'swap', namespace: 'default' })).toBeDefined();

    // An object that lost the managed label is someone else's now: listed, but not deleted.
    await deployApp({ virtual: vc.virtual, objects: withExtra, commit: SHA });
    await vc.virtual.core.patchNamespacedConfigMap({
      name: 'extra',
      namespace: 'default',
      body: [{ op: 'remove', path: '/metadata/labels/vcluster-preview.dev~1managed' }],
    });
    const kept = await deployApp({ virtual: vc.virtual, objects: app, commit: SHA });
    expect(kept.skipped.map(describeRef)).toEqual(['ConfigMap default/extra']);
    expect(kept.pruned.map(describeRef)).toEqual(['ConfigMap default/swap']);
    expect(await readConfigMap('extra')).toBeDefined();
    expect((await readInventory(vc.virtual)).map(describeRef)).toEqual(kept.inventory.map(describeRef));
    await waitForRollout(vc.virtual, app, WAIT);
  });

  it('a Deployment no node can run makes the rollout fail, naming it, its pods and their events', async () => {
    const stuck = {
      path: 'deploy/stuck.yaml',
      content: `apiVersion: apps/v1
kind: Deployment
metadata: { name: stuck }
spec:
  replicas: 1
  selector: { matchLabels: { app: stuck } }
  template:
    metadata: { labels: { app: stuck } }
    spec:
      containers:
      - name: app
        image: nginxinc/nginx-unprivileged:1.27
        # More than any node has (a pod's node selector is the operator's, not the pull request's).
        resources: { requests: { cpu: "1000" } }
`,
    };
    const files = await readManifestFiles(EXAMPLE, config.manifests ?? []);
    const objects = renderManifests([...files, stuck], values, config);
    await deployApp({ virtual: vc.virtual, objects, commit: SHA });
    const started = Date.now();
    const error = await waitForRollout(vc.virtual, objects, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error).toBeInstanceOf(RolloutError);
    const message = (error as RolloutError).message;
    expect(message.split('\n')[0]).toBe('rollout did not finish within 10s: Deployment default/stuck');
    expect(message).toMatch(/^Deployment default\/stuck: 0 of 1 replicas (updated|ready)/m);
    expect(message).toMatch(/conditions: .*Available=False/);
    expect(message).toMatch(/pod stuck-[a-z0-9]+-[a-z0-9]+: Pending/);
    expect(message).toMatch(/FailedScheduling|Unschedulable/);
    // Back to the app alone: the stuck Deployment is pruned.
    const result = await deployApp({ virtual: vc.virtual, objects: app, commit: SHA });
    expect(result.pruned.map(describeRef)).toEqual(['Deployment default/stuck']);
  });

  it('applies CRDs before their objects, and prunes the objects before the CRD', async () => {
    const crd = {
      path: 'deploy/widgets.yaml',
      content: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com }
spec:
  group: example.com
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget }
  versions:
  - name: v1
    served: true
    storage: true
    schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
---
apiVersion: example.com/v1
kind: Widget
metadata: { name: w, namespace: shop }
spec: { pr: "\${{ pr.number }}" }
---
apiVersion: v1
kind: Namespace
metadata: { name: shop }
`,
    };
    const files = await readManifestFiles(EXAMPLE, config.manifests ?? []);
    const objects = renderManifests([...files, crd], values, config);
    const result = await deployApp({ virtual: vc.virtual, objects, commit: SHA });
    expect(result.inventory.map(describeRef)).toContain('Widget shop/w');
    const widget = await rawRequest(vc.virtual, 'GET', '/apis/example.com/v1/namespaces/shop/widgets/w');
    expect(JSON.parse(widget.body).spec).toEqual({ pr: '12' });

    const pruned = await deployApp({ virtual: vc.virtual, objects: app, commit: SHA });
    expect(pruned.pruned.map(describeRef)).toEqual([
      'Widget shop/w',
      'CustomResourceDefinition widgets.example.com',
      'Namespace shop',
    ]);
  });

  it('reports what the API server refuses, naming the object', async () => {
    const bad = renderManifests(
      [
        {
          path: 'deploy/bad.yaml',
          content: 'apiVersion: v1\nkind: Service\nmetadata: { name: bad }\nspec: { ports: [{ port: 0 }] }\n',
        },
      ],
      values,
    );
    const error = await deployApp({ virtual: vc.virtual, objects: [...app, ...bad], commit: SHA }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).message).toMatch(
      /could not apply 1 object:\n {2}Service default\/bad: .*port/,
    );
  });

  it('a placeholder typo fails rendering, naming the file and line', async () => {
    const files = await readManifestFiles(EXAMPLE, config.manifests ?? []);
    const typo = {
      path: 'deploy/typo.yaml',
      content: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n  pr: "${{ pr.nubmer }}"\n',
    };
    expect(() => renderManifests([...files, typo], values, config)).toThrow(ManifestError);
    expect(() => renderManifests([...files, typo], values, config)).toThrow(
      /^deploy\/typo\.yaml:6: unknown placeholder \$\{\{ pr\.nubmer \}\} \(use one of .*\$\{\{ pr\.number \}\}/,
    );
  });
});

describe('helm charts', () => {
  let root: string;
  const helm = () => join(inject('binDir'), 'helm');
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vcp-helm-repo-'));
    await mkdir(join(root, 'chart', 'templates'), { recursive: true });
    await writeFile(join(root, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: app\nversion: 0.1.0\n');
    await writeFile(join(root, 'chart', 'values.yaml'), 'greeting: hi\nreplicas: 1\n');
    await writeFile(
      join(root, 'chart', 'templates', 'configmap.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  literal: {{ "${{ not.ours }}" | quote }}\n',
    );
    await writeFile(join(root, 'preview-values.yaml'), 'replicas: "${{ pr.number }}"\n');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('renders the chart with the project helm, placeholders filled into the values only', async () => {
    const config = parseRepoConfig(
      'helm:\n  chart: chart\n  valuesFiles: [preview-values.yaml]\n  values:\n    greeting: "hello pr ${{ pr.number }}"\n',
    );
    const objects = await renderApp({ root, config, values: { pr: { number: 7 }, sha: SHA }, helm: helm() });
    expect(objects).toHaveLength(1);
    const [configMap] = objects as [V1ConfigMap];
    expect(configMap.metadata?.name).toBe('preview-greeting');
    expect(configMap.metadata?.namespace).toBe('default');
    expect(configMap.metadata?.labels?.[MANAGED_LABEL]).toBe('true');
    expect(configMap.data).toEqual({ greeting: 'hello pr 7', replicas: '7', literal: '${{ not.ours }}' });
  });

  it('passes on what helm says about a broken chart', async () => {
    await writeFile(join(root, 'chart', 'templates', 'broken.yaml'), '{{ .Values.missing.deeper }}\n');
    try {
      const config = parseRepoConfig('helm: { chart: chart }\n');
      await expect(renderApp({ root, config, values: {}, helm: helm() })).rejects.toThrow(
        /^helm:chart: helm template failed: .*nil pointer/s,
      );
    } finally {
      await rm(join(root, 'chart', 'templates', 'broken.yaml'));
    }
  });
});
