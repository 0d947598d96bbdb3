// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { COMMIT_ANNOTATION, MANAGED_LABEL, SOURCE_ANNOTATION } from './objects.ts';
import { ManifestError, podSpecOf, renderManifests } from './render.ts';

const values = { pr: { number: 12 }, sha: 'abc123', repo: { name: 'shop', owner: 'acme' } };

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      initContainers:
      - name: migrate
        image: shop:\${{ sha }}
      containers:
      - name: web
        image: shop:\${{ sha }}
        env:
        - { name: MODE, value: production }
        - { name: KEEP, value: mine }
      - name: sidecar
        image: proxy
        resources:
          limits: { cpu: 50m }
`;

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).message.split('\n');
  }
  throw new Error('expected rendering to fail');
};

describe('renderManifests', () => {
  it('parses multi-document YAML and JSON, substitutes placeholders, labels and annotates every object', () => {
    const objects = renderManifests(
      [
        {
          path: 'k8s/config.yaml',
          content:
            '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: info\n  labels: { team: a }\ndata:\n  pr: "${{ pr.number }}"\n---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n',
        },
        {
          path: 'k8s/secret.json',
          content: '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"shop"}}',
        },
      ],
      values,
    );
    expect(objects.map((o) => `${o.kind}/${o.metadata?.namespace ?? '-'}/${o.metadata?.name}`)).toEqual([
      'ConfigMap/default/info',
      'Namespace/-/shop',
      'Secret/shop/s',
    ]);
    const [configMap] = objects as [KubernetesObject & { data: Record<string, string> }];
    expect(configMap.data.pr).toBe('12');
    expect(configMap.metadata?.labels).toEqual({ team: 'a', [MANAGED_LABEL]: 'true' });
    expect(configMap.metadata?.annotations).toEqual({
      [COMMIT_ANNOTATION]: 'abc123',
      [SOURCE_ANNOTATION]: 'k8s/config.yaml',
    });
    for (const object of objects) expect(object.metadata?.labels?.[MANAGED_LABEL]).toBe('true');
  });

  it('expands kind: List', () => {
    const objects = renderManifests(
      [
        {
          path: 'list.yaml',
          content:
            'apiVersion: v1\nkind: List\nitems:\n- { apiVersion: v1, kind: ConfigMap, metadata: { name: a } }\n- { apiVersion: v1, kind: ConfigMap, metadata: { name: b } }\n',
        },
      ],
      values,
    );
    expect(objects.map((o) => o.metadata?.name)).toEqual(['a', 'b']);
  });

  it('adds config env to every container (config wins) and resources where a container has none', () => {
    const [object] = renderManifests([{ path: 'app.yaml', content: deployment }], values, {
      env: { MODE: 'preview', PR: '${{ pr.number }}' },
      resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } },
    });
    const spec = podSpecOf(object as V1Deployment)!;
    const [migrate] = spec.initContainers ?? [];
    const [web, sidecar] = spec.containers;
    expect(web?.image).toBe('shop:abc123');
    expect(web?.env).toEqual([
      { name: 'MODE', value: 'preview' },
      { name: 'KEEP', value: 'mine' },
      { name: 'PR', value: '12' },
    ]);
    expect(migrate?.env).toEqual([
      { name: 'MODE', value: 'preview' },
      { name: 'PR', value: '12' },
    ]);
    expect(web?.resources).toEqual({ requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } });
    expect(sidecar?.resources).toEqual({ limits: { cpu: '50m' } });
    // The pod template is not labelled or annotated: a new commit alone does not roll the pods.
    expect((object as V1Deployment).spec?.template.metadata?.labels).toEqual({ app: 'web' });
    expect((object as V1Deployment).spec?.template.metadata?.annotations).toBeUndefined();
  });

  it('finds the pod spec of every workload kind', () => {
    const pod = { containers: [{ name: 'c' }] };
    const cases: [string, string, unknown][] = [
      ['apps/v1', 'StatefulSet', { template: { spec: pod } }],
      ['apps/v1', 'DaemonSet', { template: { spec: pod } }],
      ['batch/v1', 'Job', { template: { spec: pod } }],
      ['batch/v1', 'CronJob', { jobTemplate: { spec: { template: { spec: pod } } } }],
      ['v1', 'Pod', pod],
    ];
    for (const [apiVersion, kind, spec] of cases) {
      expect(podSpecOf({ apiVersion, kind, spec } as KubernetesObject), kind).toBe(pod);
    }
    expect(podSpecOf({ apiVersion: 'v1', kind: 'ConfigMap' })).toBeUndefined();
  });

  it('keeps cluster-scoped objects without a namespace, also kinds of CRDs in the same manifests', () => {
    const objects = renderManifests(
      [
        {
          path: 'crd.yaml',
          content: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com, namespace: oops }
spec: { group: example.com, scope: Cluster, names: { kind: Widget, plural: widgets } }
---
apiVersion: example.com/v1
kind: Widget
metadata: { name: w }
---
apiVersion: other.example.com/v1
kind: Widget
metadata: { name: w }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: reader }
`,
        },
      ],
      values,
    );
    expect(objects.map((o) => o.metadata?.namespace)).toEqual([undefined, undefined, 'default', undefined]);
  });

  it('names the file and line of every unknown placeholder, in one error', () => {
    const problems = problemsOf(() =>
      renderManifests(
        [
          { path: 'deploy/ok.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ok }\n' },
          {
            path: 'deploy/configmap.yaml',
            content:
              'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  pr: "${{ pr.nubmer }}"\n  sha: "${{sha}}"\n  x: "${{ shaa }}"\n',
          },
        ],
        values,
        { env: { HOST: '${{ preview.host }}' } },
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^\.github\/vcluster-preview\.yml: env\.HOST: unknown placeholder \$\{\{ preview\.host \}\}/,
      ),
      expect.stringMatching(
        /^deploy\/configmap\.yaml:6: unknown placeholder \$\{\{ pr\.nubmer \}\} \(use one of .*\$\{\{ pr\.number \}\}/,
      ),
      expect.stringMatching(/^deploy\/configmap\.yaml:8: unknown placeholder \$\{\{ shaa \}\}/),
    ]);
  });

  it('leaves placeholders in generated files alone', () => {
    const [object] = renderManifests(
      [
        {
          path: 'helm:charts/app',
          content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { x: "${{ whatever }}" }\n',
          substitute: false,
        },
      ],
      values,
    );
    expect((object as { data?: Record<string, string> }).data?.x).toBe('${{ whatever }}');
  });

  it('reports YAML errors, objects without kind or name, non-objects and duplicates with file and line', () => {
    const problems = problemsOf(() =>
      renderManifests(
        [
          { path: 'a.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n' },
          {
            path: 'b.yaml',
            content:
              'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: dup }\n---\nkind: Secret\nmetadata: { generateName: s- }\n---\n- a list\n',
          },
          {
            path: 'c.yml',
            content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: dup, namespace: default }\n',
          },
        ],
        values,
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^a\.yaml:\d+: YAML: /),
      'b.yaml:5: object without apiVersion, metadata.name (generateName is not supported: server-side apply needs a fixed name)',
      'b.yaml:8: a document is not a mapping (expected a Kubernetes object)',
      'c.yml:1: ConfigMap default/dup is defined twice (also in b.yaml:1)',
    ]);
  });

  it('refuses manifests without any object', () => {
    expect(
      problemsOf(() => renderManifests([{ path: 'empty.yaml', content: '# nothing\n' }], values)),
    ).toEqual([
      'empty.yaml: no Kubernetes objects found (add YAML manifests with apiVersion, kind and metadata.name)',
    ]);
  });

  it('does not change its input', () => {
    const files = [{ path: 'app.yaml', content: deployment }];
    const first = renderManifests(files, values, { env: { A: '1' } });
    const second = renderManifests(files, values, { env: { A: '1' } });
    expect(second).toEqual(first);
  });
});
