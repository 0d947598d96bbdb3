import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  RbacAuthorizationV1Api,
  type V1ClusterRole,
  type V1ConfigMap,
  type V1Container,
  type V1Deployment,
  type V1Ingress,
  type V1LimitRange,
  type V1ResourceQuota,
  type V1Role,
  type V1Service,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isNotFound, type KubeClients, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { kubeconfigFile, runBinary } from '../support/kubectl.ts';

const chart = fileURLToPath(new URL('../../charts/vcluster', import.meta.url));
const release = 'demo';
const namespace = 'vc-demo-ns';
const serviceCIDR = '10.96.0.0/16';

interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

/** `helm template` with the given `--set` values (`{ json }`: `--set-json`), parsed into objects. */
async function render(...sets: (string | { json: string })[]): Promise<RenderedObject[]> {
  const args = [
    'template',
    release,
    chart,
    '--namespace',
    namespace,
    '--skip-tests',
    '--set',
    `serviceCIDR=${serviceCIDR}`,
  ];
  for (const set of sets) args.push(...(typeof set === 'string' ? ['--set', set] : ['--set-json', set.json]));
  return parseObjects(await runBinary('helm', args));
}

function parseObjects(yaml: string): RenderedObject[] {
  return parseAllDocuments(yaml)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${document.errors[0]}`);
      return document.toJS() as RenderedObject | null;
    })
    .filter((object): object is RenderedObject => object !== null);
}

/** Runs helm expecting it to fail; returns what it said. */
async function helmFails(args: string[]): Promise<string> {
  try {
    await runBinary('helm', args);
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    return `${stderr ?? ''}\n${message}`;
  }
  throw new Error(`helm ${args.join(' ')} succeeded but was expected to fail`);
}

const ids = (objects: RenderedObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

/** NetworkPolicy as YAML spells it (the client's model renames `from` to `_from`). */
interface RenderedNetworkPolicy {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    ingress?: { from?: object[]; ports?: object[] }[];
    egress?: { to?: { ipBlock?: { cidr: string; except?: string[] } }[]; ports?: object[] }[];
  };
}

function find<T>(objects: RenderedObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered; got ${ids(objects).join(', ')}`);
  return found as unknown as T;
}

function container(containers: V1Container[] | undefined, name: string): V1Container {
  const found = containers?.find((c) => c.name === name);
  if (!found) throw new Error(`container ${name} missing`);
  return found;
}

const defaultIds = [
  'ClusterRole/vc-demo-v-vc-demo-ns',
  'ClusterRoleBinding/vc-demo-v-vc-demo-ns',
  'ConfigMap/demo-coredns',
  'LimitRange/vc-demo',
  'NetworkPolicy/vc-cp-demo',
  'NetworkPolicy/vc-work-demo',
  'ResourceQuota/vc-demo',
  'Role/vc-demo',
  'RoleBinding/vc-demo',
  'Service/demo',
  'Service/demo-headless',
  'ServiceAccount/vc-demo',
  'ServiceAccount/vc-workload-demo',
  'StatefulSet/demo',
];

describe('charts/vcluster: lint and render', () => {
  it('passes helm lint --strict', async () => {
    const out = await runBinary('helm', ['lint', '--strict', chart, '--set', `serviceCIDR=${serviceCIDR}`]);
    expect(out).toContain('0 chart(s) failed');
  });

  it('renders the control plane, services, accounts, RBAC, CoreDNS and isolation by default', async () => {
    const objects = await render();
    expect(ids(objects)).toEqual(defaultIds);
    for (const object of objects) {
      expect(object.metadata.labels).toMatchObject({
        app: 'vcluster',
        release,
        'app.kubernetes.io/name': 'vcluster',
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/managed-by': 'Helm',
      });
      if (!object.kind.startsWith('Cluster')) expect(object.metadata.namespace).toBe(namespace);
    }

    const sts = find<V1StatefulSet>(objects, 'StatefulSet', release);
    expect(sts.spec?.serviceName).toBe('demo-headless');
    expect(sts.spec?.selector.matchLabels).toEqual({ app: 'vcluster', release });
    expect(sts.spec?.volumeClaimTemplates?.[0]?.metadata?.name).toBe('data');
    expect(sts.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Delete',
      whenScaled: 'Retain',
    });
    const pod = sts.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe('vc-demo');
    expect(pod?.containers.map((c) => c.name)).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'syncer',
    ]);
    expect(pod?.containers.map((c) => c.image)).toEqual([
      'registry.k8s.io/etcd:3.6.16-0',
      'registry.k8s.io/kube-apiserver:v1.36.3',
      'registry.k8s.io/kube-controller-manager:v1.36.3',
      'ghcr.io/vcluster-preview/vcluster-preview:0.1.0',
    ]);
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      // The ResourceQuota covers the control plane too: every container states what it needs.
      expect(Object.keys(c.resources?.requests ?? {}).sort(), c.name).toEqual(['cpu', 'memory']);
      expect(Object.keys(c.resources?.limits ?? {}).sort(), c.name).toEqual(['cpu', 'memory']);
    }

    const pki = container(pod?.initContainers, 'pki');
    expect(pki.command?.slice(0, 8)).toEqual([
      'vcluster-preview',
      'pki',
      '--dir',
      '/pki',
      '--secret',
      'vc-demo-pki',
      '--namespace',
      namespace,
    ]);
    expect(pki.command?.[8]).toBe('--hosts');
    expect(pki.command?.[9]?.split(',')).toEqual(
      expect.arrayContaining([
        'demo',
        'demo.vc-demo-ns',
        'demo.vc-demo-ns.svc',
        'localhost',
        'kubernetes.default.svc',
      ]),
    );
    expect(pki.command?.slice(10)).toEqual(['--service', release]);

    const apiserver = container(pod?.containers, 'kube-apiserver');
    expect(apiserver.command).toEqual(
      expect.arrayContaining([
        'kube-apiserver',
        `--service-cluster-ip-range=${serviceCIDR}`,
        '--endpoint-reconciler-type=none',
        '--authorization-mode=RBAC',
        '--secure-port=8443',
        '--etcd-servers=http://127.0.0.1:2379',
      ]),
    );
    expect(apiserver.readinessProbe?.httpGet).toMatchObject({
      path: '/readyz',
      port: 'https',
      scheme: 'HTTPS',
    });

    const kcm = container(pod?.containers, 'kube-controller-manager');
    expect(kcm.command).toEqual(
      expect.arrayContaining([
        '--controllers=*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-cloud-node-lifecycle,-ttl',
        '--leader-elect=false',
        '--kubeconfig=/pki/admin.kubeconfig',
      ]),
    );

    const syncer = container(pod?.containers, 'syncer');
    expect(syncer.command).toEqual([
      'vcluster-preview',
      'syncer',
      '--name',
      release,
      '--host-namespace',
      namespace,
      '--virtual-kubeconfig',
      '/pki/admin.kubeconfig',
      '--enforce-pod-security=baseline',
      '--service-name',
      release,
      '--workload-service-account',
      'vc-workload-demo',
      '--kubeconfig-secret',
      'vc-demo',
      '--coredns-configmap',
      'demo-coredns',
      '--kubelet-port=10250',
      '--kubelet-address=127.0.0.1',
      '--kubelet-bind-address=127.0.0.1',
    ]);
    expect(syncer.ports).toEqual([{ name: 'syncer-http', containerPort: 8080, protocol: 'TCP' }]);
    expect(syncer.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'syncer-http' });

    const service = find<V1Service>(objects, 'Service', release);
    expect(service.spec?.type).toBe('ClusterIP');
    expect(service.spec?.ports).toEqual([{ name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }]);
    expect(service.spec?.selector).toEqual({ app: 'vcluster', release });
    expect(find<V1Service>(objects, 'Service', 'demo-headless').spec?.clusterIP).toBe('None');

    const role = find<V1Role>(objects, 'Role', 'vc-demo');
    const coreRule = role.rules?.find((r) => r.resources?.includes('secrets'));
    expect(coreRule?.resources).toEqual(
      expect.arrayContaining([
        'pods',
        'services',
        'endpoints',
        'configmaps',
        'secrets',
        'persistentvolumeclaims',
      ]),
    );
    expect(coreRule?.verbs).toEqual(expect.arrayContaining(['create', 'update', 'delete', 'watch']));
    expect(role.rules?.some((r) => r.resources?.includes('ingresses'))).toBe(true);
    expect(role.rules?.flatMap((r) => r.resources ?? [])).not.toContain('nodes');
    const clusterRole = find<V1ClusterRole>(objects, 'ClusterRole', 'vc-demo-v-vc-demo-ns');
    expect(clusterRole.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
    ]);

    const quota = find<V1ResourceQuota>(objects, 'ResourceQuota', 'vc-demo');
    expect(quota.spec?.hard).toMatchObject({
      'requests.cpu': '10',
      'requests.memory': '20Gi',
      'limits.cpu': '20',
      'limits.memory': '40Gi',
      'count/pods': '20',
      'count/services': '20',
      'count/configmaps': '100',
      'count/secrets': '100',
      'count/persistentvolumeclaims': '20',
      'requests.storage': '100Gi',
      // Services of each exposing type and Ingresses count too.
      'services.loadbalancers': '1',
      'services.nodeports': '1',
      'count/ingresses.networking.k8s.io': '10',
    });
    const limits = find<V1LimitRange>(objects, 'LimitRange', 'vc-demo');
    expect(limits.spec?.limits[0]).toMatchObject({ type: 'Container', defaultRequest: { cpu: '100m' } });

    const work = find<RenderedNetworkPolicy>(objects, 'NetworkPolicy', 'vc-work-demo');
    expect(work.spec.podSelector.matchLabels).toEqual({ 'vcluster.loft.sh/managed-by': release });
    expect(work.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(work.spec.ingress?.[0]?.from).toContainEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
    });
    const internet = work.spec.egress?.find((rule) => rule.to?.[0]?.ipBlock)?.to?.[0]?.ipBlock;
    expect(internet?.cidr).toBe('0.0.0.0/0');
    expect(internet?.except).toContain('10.0.0.0/8');
    const cp = find<RenderedNetworkPolicy>(objects, 'NetworkPolicy', 'vc-cp-demo');
    expect(cp.spec.podSelector.matchLabels).toEqual({ app: 'vcluster', release });
    expect(cp.spec.ingress?.[0]?.from?.[0]).toEqual({
      podSelector: { matchLabels: { 'vcluster.loft.sh/managed-by': release } },
    });
    // `helm test`'s pod asks the API server from the namespace, so it is let in too.
    expect(cp.spec.ingress?.[0]?.from).toContainEqual({
      podSelector: {
        matchLabels: { 'app.kubernetes.io/instance': release, 'app.kubernetes.io/component': 'helm-test' },
      },
    });

    const coredns = find<V1ConfigMap>(objects, 'ConfigMap', 'demo-coredns');
    const manifests = parseObjects(coredns.data?.['coredns.yaml'] ?? '');
    expect(ids(manifests)).toEqual([
      'ClusterRole/system:coredns',
      'ClusterRoleBinding/system:coredns',
      'ConfigMap/coredns',
      'Deployment/coredns',
      'Service/kube-dns',
      'ServiceAccount/coredns',
    ]);
    for (const manifest of manifests) {
      if (!manifest.kind.startsWith('Cluster')) expect(manifest.metadata.namespace).toBe('kube-system');
    }
    const dns = find<V1Deployment>(manifests, 'Deployment', 'coredns');
    expect(dns.spec?.template.spec?.containers[0]?.image).toMatch(
      /^registry\.k8s\.io\/coredns\/coredns:v1\.12\./,
    );
  });

  it('renders a Deployment instead of a StatefulSet without persistence', async () => {
    const objects = await render('persistence.enabled=false');
    expect(ids(objects)).toContain('Deployment/demo');
    expect(ids(objects)).not.toContain('StatefulSet/demo');
    const deployment = find<V1Deployment>(objects, 'Deployment', release);
    expect(deployment.spec?.strategy?.type).toBe('Recreate');
    expect(deployment.spec?.template.spec?.volumes?.find((v) => v.name === 'data')).toEqual({
      name: 'data',
      emptyDir: {},
    });
  });

  it('sets the Service type from exposure.type and renders an Ingress on request', async () => {
    const nodePort = await render('exposure.type=NodePort', 'exposure.nodePort=30443');
    const service = find<V1Service>(nodePort, 'Service', release);
    expect(service.spec?.type).toBe('NodePort');
    expect(service.spec?.ports?.[0]?.nodePort).toBe(30443);
    expect(find<V1Service>(await render('exposure.type=LoadBalancer'), 'Service', release).spec?.type).toBe(
      'LoadBalancer',
    );

    const withIngress = await render(
      'exposure.ingress.enabled=true',
      'exposure.ingress.host=api.pr-1.example.com',
      'exposure.ingress.className=nginx',
    );
    const ingress = find<V1Ingress>(withIngress, 'Ingress', release);
    expect(ingress.metadata?.annotations?.['nginx.ingress.kubernetes.io/ssl-passthrough']).toBe('true');
    expect(ingress.spec?.ingressClassName).toBe('nginx');
    expect(ingress.spec?.rules?.[0]?.host).toBe('api.pr-1.example.com');
    const sts = find<V1StatefulSet>(withIngress, 'StatefulSet', release);
    const pki = container(sts.spec?.template.spec?.initContainers, 'pki');
    expect(pki.command?.[9]?.split(',')).toContain('api.pr-1.example.com');

    expect(
      await helmFails([
        'template',
        release,
        chart,
        '--set',
        `serviceCIDR=${serviceCIDR}`,
        '--set',
        'exposure.ingress.enabled=true',
      ]),
    ).toContain('exposure.ingress.host');
  });

  it('lets the host machine of hostCIDRs reach workloads and control plane, and receive DNS only', async () => {
    const objects = await render('isolation.networkPolicy.hostCIDRs[0]=10.87.0.1/32');
    const machine = { ipBlock: { cidr: '10.87.0.1/32' } };
    const work = find<RenderedNetworkPolicy>(objects, 'NetworkPolicy', 'vc-work-demo');
    expect(work.spec.ingress?.[0]?.from).toContainEqual(machine);
    expect(work.spec.egress?.filter((rule) => JSON.stringify(rule.to).includes('10.87.0.1'))).toEqual([
      {
        to: [machine],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
    ]);
    const cp = find<RenderedNetworkPolicy>(objects, 'NetworkPolicy', 'vc-cp-demo');
    expect(cp.spec.ingress?.[0]?.from).toContainEqual(machine);
    const defaults = find<RenderedNetworkPolicy>(await render(), 'NetworkPolicy', 'vc-work-demo');
    expect(JSON.stringify(defaults)).not.toContain('/32');
  });

  it('lets the namespaces of workloads.allowFromNamespaces reach the workloads, none by default', async () => {
    const service = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'vcluster-preview' } },
    };
    const objects = await render('isolation.networkPolicy.workloads.allowFromNamespaces[0]=vcluster-preview');
    const work = find<RenderedNetworkPolicy>(objects, 'NetworkPolicy', 'vc-work-demo');
    expect(work.spec.ingress?.[0]?.from).toContainEqual(service);
    const defaults = find<RenderedNetworkPolicy>(await render(), 'NetworkPolicy', 'vc-work-demo');
    expect(defaults.spec.ingress?.[0]?.from).not.toContainEqual(service);
  });

  it('drops each isolation object, CoreDNS and the ClusterRole when switched off', async () => {
    const without = async (set: string, gone: string[]) => {
      const rendered = ids(await render(set));
      expect(rendered, set).toEqual(defaultIds.filter((id) => !gone.includes(id)));
      return rendered;
    };
    await without('isolation.resourceQuota.enabled=false', ['ResourceQuota/vc-demo']);
    await without('isolation.limitRange.enabled=false', ['LimitRange/vc-demo']);
    await without('isolation.networkPolicy.enabled=false', [
      'NetworkPolicy/vc-cp-demo',
      'NetworkPolicy/vc-work-demo',
    ]);
    await without('coredns.enabled=false', ['ConfigMap/demo-coredns']);
    await without('rbac.clusterRole.enabled=false', [
      'ClusterRole/vc-demo-v-vc-demo-ns',
      'ClusterRoleBinding/vc-demo-v-vc-demo-ns',
    ]);

    const objects = await render(
      'coredns.enabled=false',
      'rbac.clusterRole.enabled=false',
      'isolation.podSecurityStandard=restricted',
      'syncer.allowedHostSuffix=pr-1.preview.example.com',
    );
    const syncer = container(
      find<V1StatefulSet>(objects, 'StatefulSet', release).spec?.template.spec?.containers,
      'syncer',
    );
    expect(syncer.command).not.toContain('--coredns-configmap');
    expect(syncer.command).toContain('--read-host-nodes=false');
    expect(syncer.command).toContain('--enforce-pod-security=restricted');
    const suffix = syncer.command?.indexOf('--allowed-host-suffix') ?? -1;
    expect(syncer.command?.[suffix + 1]).toBe('pr-1.preview.example.com');
  });

  it('passes the operator’s CSI drivers and storage classes to the syncer; [] classes is only the default one', async () => {
    const syncerOf = async (...sets: Parameters<typeof render>) =>
      container(
        find<V1StatefulSet>(await render(...sets), 'StatefulSet', release).spec?.template.spec?.containers,
        'syncer',
      ).command ?? [];
    const allowed = await syncerOf(
      'isolation.allowedCsiDrivers={a.csi.example.com,b.csi.example.com}',
      'isolation.allowedStorageClasses={fast,standard}',
    );
    expect(allowed).toContain('--allow-csi-drivers=a.csi.example.com,b.csi.example.com');
    expect(allowed).toContain('--allow-storage-classes=fast,standard');
    expect(await syncerOf({ json: 'isolation.allowedStorageClasses=[]' })).toContain(
      '--allow-storage-classes=',
    );
    const bad = await helmFails([
      'template',
      release,
      chart,
      '--set',
      `serviceCIDR=${serviceCIDR}`,
      '--set',
      'isolation.allowedStorageClasses={Not_A_Class}',
    ]);
    expect(bad).toContain('/isolation/allowedStorageClasses');
  });

  it('rejects misspelt keys and wrong values through the schema', async () => {
    const base = ['template', release, chart, '--set', `serviceCIDR=${serviceCIDR}`];
    const topLevel = await helmFails([...base, '--set', 'persistance.enabled=false']);
    expect(topLevel).toMatch(/additional propert(y|ies) 'persistance' not allowed/);

    const nested = await helmFails([...base, '--set', 'isolation.resourceQouta.enabled=false']);
    expect(nested).toContain('resourceQouta');
    expect(nested).toContain('/isolation');

    const badType = await helmFails([...base, '--set', 'exposure.type=Ingress']);
    expect(badType).toContain('/exposure/type');

    const badLevel = await helmFails([...base, '--set', 'isolation.podSecurityStandard=strict']);
    expect(badLevel).toContain('/isolation/podSecurityStandard');
  });

  it('rejects a missing or malformed serviceCIDR', async () => {
    const missing = await helmFails(['template', release, chart]);
    expect(missing).toContain("missing property 'serviceCIDR'");
    const malformed = await helmFails(['template', release, chart, '--set', 'serviceCIDR=10.96.0.0']);
    expect(malformed).toContain('/serviceCIDR');
  });
});

describe('charts/vcluster: helm install into the host cluster', () => {
  let host: KubeClients;
  let rbac: RbacAuthorizationV1Api;
  let kubeconfig: string;
  const suffix = Date.now().toString(36);
  const ns = `vc-chart-${suffix}`;
  const name = 'preview';
  const pvName = `vc-chart-data-${suffix}`;
  const clusterRoleName = `vc-${name}-v-${ns}`;

  beforeAll(async () => {
    host = kubeClients(inject('hostKubeconfig'));
    rbac = host.config.makeApiClient(RbacAuthorizationV1Api);
    kubeconfig = await kubeconfigFile(inject('hostKubeconfig'));
    await host.core.createNamespace({ body: { metadata: { name: ns } } });
    // The test host has no storage provisioner: a volume bound ahead of time to the
    // StatefulSet's claim stands in for one.
    await host.core.createPersistentVolume({
      body: {
        metadata: { name: pvName },
        spec: {
          capacity: { storage: '5Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path: `/tmp/${pvName}` },
          claimRef: { namespace: ns, name: `data-${name}-0` },
        },
      },
    });
  });

  afterAll(async () => {
    await runBinary('helm', ['uninstall', name, '--namespace', ns], { kubeconfig }).catch(() => {});
    await host.core.deleteNamespace({ name: ns }).catch(() => {});
    await host.core.deletePersistentVolume({ name: pvName }).catch(() => {});
    await rbac.deleteClusterRoleBinding({ name: clusterRoleName }).catch(() => {});
    await rbac.deleteClusterRole({ name: clusterRoleName }).catch(() => {});
  });

  it('renders objects the API server accepts in every variant (server-side dry run, strict validation)', async () => {
    const variants: string[][] = [
      [],
      [
        'persistence.enabled=false',
        'exposure.type=NodePort',
        'exposure.nodePort=30443',
        'exposure.ingress.enabled=true',
        'exposure.ingress.host=api.pr-1.example.com',
        'coredns.enabled=false',
        'rbac.clusterRole.enabled=false',
        'syncer.allowedHostSuffix=pr-1.example.com',
        'syncer.kubeconfigServer=https://api.pr-1.example.com',
        'controlPlane.nodeSelector.kubernetes\\.io/os=linux',
        'isolation.networkPolicy.controlPlane.extraFrom[0].ipBlock.cidr=0.0.0.0/0',
        'isolation.networkPolicy.hostCIDRs[0]=10.87.0.1/32',
      ],
      [
        'exposure.type=LoadBalancer',
        'persistence.storageClass=fast',
        'isolation.networkPolicy.ingressControllerNamespace=',
      ],
    ];
    const dir = await mkdtemp(join(tmpdir(), 'vc-chart-'));
    for (const [index, sets] of variants.entries()) {
      const args = ['template', name, chart, '--namespace', ns, '--set', `serviceCIDR=${serviceCIDR}`];
      for (const set of sets) args.push('--set', set);
      const file = join(dir, `variant-${index}.yaml`);
      await writeFile(file, await runBinary('helm', args));
      const out = await runBinary('kubectl', ['apply', '--dry-run=server', '--validate=strict', '-f', file], {
        kubeconfig,
      });
      expect(out, sets.join(' ')).toContain('(server dry run)');
    }
  });

  it('installs, runs the control plane pod on a kwok node, and uninstalls without leftovers', async () => {
    await runBinary(
      'helm',
      ['install', name, chart, '--namespace', ns, '--set', `serviceCIDR=${serviceCIDR}`, '--wait=false'],
      { kubeconfig },
    );

    const sts = await host.apps.readNamespacedStatefulSet({ name, namespace: ns });
    expect(sts.spec?.template.spec?.containers.map((c) => c.name)).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'syncer',
    ]);
    const service = await host.core.readNamespacedService({ name, namespace: ns });
    expect(service.spec?.type).toBe('ClusterIP');
    expect(service.spec?.clusterIP).toMatch(/^10\.96\./);
    expect(service.spec?.ports?.[0]).toMatchObject({ port: 443, targetPort: 8443 });
    const headless = await host.core.readNamespacedService({ name: `${name}-headless`, namespace: ns });
    expect(headless.spec?.clusterIP).toBe('None');
    await host.core.readNamespacedServiceAccount({ name: `vc-${name}`, namespace: ns });
    const workloadAccount = await host.core.readNamespacedServiceAccount({
      name: `vc-workload-${name}`,
      namespace: ns,
    });
    expect(workloadAccount.automountServiceAccountToken).toBe(false);
    const role = await rbac.readNamespacedRole({ name: `vc-${name}`, namespace: ns });
    expect(role.rules?.some((r) => r.resources?.includes('secrets') && r.verbs.includes('create'))).toBe(
      true,
    );
    const binding = await rbac.readNamespacedRoleBinding({ name: `vc-${name}`, namespace: ns });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: `vc-${name}`, namespace: ns }]);
    await rbac.readClusterRole({ name: clusterRoleName });
    await rbac.readClusterRoleBinding({ name: clusterRoleName });
    const quota = await host.core.readNamespacedResourceQuota({ name: `vc-${name}`, namespace: ns });
    expect(quota.spec?.hard?.['count/pods']).toBe('20');
    await host.core.readNamespacedLimitRange({ name: `vc-${name}`, namespace: ns });
    const policies = await host.networking.listNamespacedNetworkPolicy({ namespace: ns });
    expect(policies.items.map((p) => p.metadata?.name).sort()).toEqual([`vc-cp-${name}`, `vc-work-${name}`]);
    await host.core.readNamespacedConfigMap({ name: `${name}-coredns`, namespace: ns });

    const pod = await waitUntil(
      async () => {
        const p = await host.core.readNamespacedPod({ name: `${name}-0`, namespace: ns });
        return p.status?.phase === 'Running' ? p : undefined;
      },
      { what: `pod ${name}-0 to be Running`, timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(pod.spec?.nodeName).toMatch(/^kwok-node-\d$/);
    expect(pod.spec?.serviceAccountName).toBe(`vc-${name}`);
    // Admitted under the quota: the LimitRange and the containers' own resources satisfy it.
    const used = await host.core.readNamespacedResourceQuota({ name: `vc-${name}`, namespace: ns });
    expect(used.status?.used?.['count/pods']).toBe('1');
    const claim = await host.core.readNamespacedPersistentVolumeClaim({
      name: `data-${name}-0`,
      namespace: ns,
    });
    expect(claim.spec?.volumeName).toBe(pvName);

    await runBinary('helm', ['uninstall', name, '--namespace', ns], { kubeconfig });
    const gone = async (read: () => Promise<unknown>) => {
      try {
        await read();
        return false;
      } catch (error) {
        return isNotFound(error);
      }
    };
    await waitUntil(() => gone(() => host.apps.readNamespacedStatefulSet({ name, namespace: ns })), {
      what: `StatefulSet ${name} to be gone`,
    });
    // Cluster-scoped: deleting the namespace would not remove it, uninstalling must.
    expect(await gone(() => rbac.readClusterRole({ name: clusterRoleName }))).toBe(true);
    expect(await gone(() => rbac.readClusterRoleBinding({ name: clusterRoleName }))).toBe(true);

    await host.core.deleteNamespace({ name: ns });
    await waitUntil(() => gone(() => host.core.readNamespace({ name: ns })), {
      what: `namespace ${ns} to be gone`,
      timeoutMs: 90_000,
      intervalMs: 500,
    });
  });
});
