import { createHash } from 'node:crypto';
import type { V1Pod, V1PodCondition, V1PodSpec, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { TranslateContext } from './context.ts';
import {
  dnsServiceIPFor,
  droppedSchedulingFields,
  podHostname,
  podLabelsAnnotation,
  podNodeNameToVirtual,
  podReferences,
  podServiceAccountTokens,
  podStatusToVirtual,
  podToHost,
  podUpdateToHost,
  saTokenAnnotation,
  usesClusterDns,
} from './pod.ts';

const ctx: TranslateContext = {
  vclusterName: 'pr-12',
  hostNamespace: 'preview-pr-12',
  dnsServiceIP: '10.96.0.53',
  kubernetesServiceIP: '10.96.0.20',
};
const hash10 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 10);
// The token annotation of a projected source: vcluster's prefix, 8 characters from volume and index.
const tokenAnnotation = (volume: string, index: number) =>
  `vcluster.loft.sh/token-${createHash('sha256').update(`${volume}/${index}`).digest('hex').slice(0, 8)}`;
const apiAccessToken = tokenAnnotation('kube-api-access-abcde', 0);

// A pod as the virtual API server returns it: defaulted, with the service-account token volume.
function virtualPod(spec: Partial<V1PodSpec> = {}, name = 'web-7d4b9c-x2x9q'): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      uid: 'pod-uid-1',
      resourceVersion: '123',
      creationTimestamp: new Date('2024-05-01T10:00:00Z'),
      labels: { app: 'web', 'pod-template-hash': '7d4b9c', release: 'stable' },
      annotations: { 'prometheus.io/scrape': 'true' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d4b9c',
          uid: 'rs-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      nodeName: 'virtual-node',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      priorityClassName: 'high',
      priority: 1000,
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      subdomain: 'web-headless',
      containers: [
        {
          name: 'app',
          image: 'nginx:1.25',
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            { name: 'DB_PASS', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
            { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
          ],
          envFrom: [{ configMapRef: { name: 'common' } }, { secretRef: { name: 'api-keys' } }],
          volumeMounts: [
            { name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
          ],
        },
      ],
      imagePullSecrets: [{ name: 'regcred' }],
      volumes: [
        { name: 'config', configMap: { name: 'settings' } },
        { name: 'certs', secret: { secretName: 'tls' } },
        { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
        {
          name: 'kube-api-access-abcde',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
          },
        },
      ],
      ...spec,
    },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

describe('podToHost: a typical deployment pod', () => {
  const vPod = virtualPod();
  const before = structuredClone(vPod);
  const host = podToHost(vPod, ctx, { workloadServiceAccount: 'vc-workload-pr-12' });

  it('does not mutate the virtual pod', () => {
    expect(vPod).toStrictEqual(before);
  });

  it('names the host pod and keeps resource bookkeeping off it', () => {
    expect(host.metadata?.name).toBe('web-7d4b9c-x2x9q-x-shop-x-pr-12');
    expect(host.metadata?.namespace).toBe('preview-pr-12');
    expect(host.metadata?.uid).toBeUndefined();
    expect(host.metadata?.resourceVersion).toBeUndefined();
    expect(host.metadata?.ownerReferences).toBeUndefined();
    expect(host.status).toBeUndefined();
  });

  it('labels it for the host', () => {
    expect(host.metadata?.labels).toStrictEqual({
      app: 'web',
      'pod-template-hash': '7d4b9c',
      [`vcluster.loft.sh/label-pr-12-x-${hash10('release')}`]: 'stable',
      'vcluster.loft.sh/managed-by': 'pr-12',
      'vcluster.loft.sh/namespace': 'shop',
    });
  });

  it.each([
    ['vcluster.loft.sh/object-name', 'web-7d4b9c-x2x9q'],
    ['vcluster.loft.sh/object-namespace', 'shop'],
    ['vcluster.loft.sh/object-uid', 'pod-uid-1'],
    ['vcluster.loft.sh/object-kind', '/v1, Kind=Pod'],
    ['vcluster.loft.sh/object-host-name', 'web-7d4b9c-x2x9q-x-shop-x-pr-12'],
    ['vcluster.loft.sh/object-host-namespace', 'preview-pr-12'],
    ['vcluster.loft.sh/name', 'web-7d4b9c-x2x9q'],
    ['vcluster.loft.sh/namespace', 'shop'],
    ['vcluster.loft.sh/uid', 'pod-uid-1'],
    ['vcluster.loft.sh/labels', 'app="web"\npod-template-hash="7d4b9c"\nrelease="stable"'],
    ['vcluster.loft.sh/service-account-name', 'default'],
    [
      'vcluster.loft.sh/owner-references',
      '[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4b9c","uid":"rs-uid","controller":true,"blockOwnerDeletion":true}]',
    ],
    ['vcluster.loft.sh/owner-set-kind', 'ReplicaSet'],
    ['cluster-autoscaler.kubernetes.io/safe-to-evict', 'true'],
    ['prometheus.io/scrape', 'true'],
  ])('annotation %s = %s', (key, value) => {
    expect(host.metadata?.annotations?.[key]).toBe(value);
  });

  it.each<[string, unknown]>([
    ['nodeName', undefined],
    ['serviceAccountName', 'vc-workload-pr-12'],
    ['serviceAccount', undefined],
    ['automountServiceAccountToken', false],
    ['enableServiceLinks', false],
    ['priorityClassName', undefined],
    ['priority', undefined],
    ['hostname', 'web-7d4b9c-x2x9q'],
    ['subdomain', undefined],
    ['dnsPolicy', 'None'],
    ['imagePullSecrets', [{ name: 'regcred-x-shop-x-pr-12' }]],
    [
      'hostAliases',
      [{ ip: '10.96.0.20', hostnames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc'] }],
    ],
    [
      'dnsConfig',
      {
        nameservers: ['10.96.0.53'],
        searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
        options: [{ name: 'ndots', value: '5' }],
      },
    ],
  ])('spec.%s', (field, value) => {
    expect((host.spec as unknown as Record<string, unknown>)[field]).toStrictEqual(value);
  });

  it('translates volumes and reads the token from a pod annotation through the downward API', () => {
    expect(host.spec?.volumes).toStrictEqual([
      { name: 'config', configMap: { name: 'settings-x-shop-x-pr-12' } },
      { name: 'certs', secret: { secretName: 'tls-x-shop-x-pr-12' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'data-x-shop-x-pr-12' } },
      {
        name: 'kube-api-access-abcde',
        projected: {
          defaultMode: 420,
          sources: [
            {
              downwardAPI: {
                items: [
                  {
                    path: 'token',
                    fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${apiAccessToken}']` },
                    mode: 0o644,
                  },
                ],
              },
            },
            {
              configMap: {
                name: 'kube-root-ca.crt-x-shop-x-pr-12',
                items: [{ key: 'ca.crt', path: 'ca.crt' }],
              },
            },
            {
              downwardAPI: {
                items: [
                  {
                    path: 'namespace',
                    fieldRef: {
                      apiVersion: 'v1',
                      fieldPath: "metadata.annotations['vcluster.loft.sh/namespace']",
                    },
                  },
                ],
              },
            },
          ],
        },
      },
    ]);
  });

  it('injects the API server variables first and translates env references', () => {
    const env = host.spec?.containers[0]?.env ?? [];
    expect(env.map((e) => e.name)).toStrictEqual([
      'KUBERNETES_PORT',
      'KUBERNETES_PORT_443_TCP',
      'KUBERNETES_PORT_443_TCP_ADDR',
      'KUBERNETES_PORT_443_TCP_PORT',
      'KUBERNETES_PORT_443_TCP_PROTO',
      'KUBERNETES_SERVICE_HOST',
      'KUBERNETES_SERVICE_PORT',
      'KUBERNETES_SERVICE_PORT_HTTPS',
      'POD_NAME',
      'DB_PASS',
      'MODE',
    ]);
    expect(env.find((e) => e.name === 'KUBERNETES_SERVICE_HOST')?.value).toBe('10.96.0.20');
    expect(env.find((e) => e.name === 'KUBERNETES_PORT')?.value).toBe('tcp://10.96.0.20:443');
    expect(env.slice(8)).toStrictEqual([
      {
        name: 'POD_NAME',
        valueFrom: {
          fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['vcluster.loft.sh/name']" },
        },
      },
      { name: 'DB_PASS', valueFrom: { secretKeyRef: { name: 'db-x-shop-x-pr-12', key: 'password' } } },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings-x-shop-x-pr-12', key: 'mode' } } },
    ]);
    expect(host.spec?.containers[0]?.envFrom).toStrictEqual([
      { configMapRef: { name: 'common-x-shop-x-pr-12' } },
      { secretRef: { name: 'api-keys-x-shop-x-pr-12' } },
    ]);
  });
});

describe('podToHost: downward API field paths', () => {
  it.each([
    { fieldPath: 'metadata.name', expected: "metadata.annotations['vcluster.loft.sh/name']" },
    { fieldPath: 'metadata.namespace', expected: "metadata.annotations['vcluster.loft.sh/namespace']" },
    { fieldPath: 'metadata.uid', expected: "metadata.annotations['vcluster.loft.sh/uid']" },
    { fieldPath: 'metadata.labels', expected: "metadata.annotations['vcluster.loft.sh/labels']" },
    {
      fieldPath: 'spec.serviceAccountName',
      expected: "metadata.annotations['vcluster.loft.sh/service-account-name']",
    },
    { fieldPath: "metadata.labels['app']", expected: "metadata.labels['app']" },
    {
      fieldPath: "metadata.labels['release']",
      expected: `metadata.labels['vcluster.loft.sh/label-pr-12-x-${hash10('release')}']`,
    },
    { fieldPath: "metadata.annotations['a']", expected: "metadata.annotations['a']" },
    { fieldPath: 'status.podIP', expected: 'status.podIP' },
    { fieldPath: 'spec.nodeName', expected: 'spec.nodeName' },
  ])('$fieldPath → $expected', ({ fieldPath, expected }) => {
    const vPod = virtualPod({
      containers: [{ name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath } } }] }],
      volumes: [{ name: 'info', downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath } }] } }],
    });
    const host = podToHost(vPod, ctx);
    expect(host.spec?.containers[0]?.env?.find((e) => e.name === 'X')?.valueFrom?.fieldRef?.fieldPath).toBe(
      expected,
    );
    expect(host.spec?.volumes?.[0]?.downwardAPI?.items?.[0]?.fieldRef?.fieldPath).toBe(expected);
  });
});

describe('podHostname', () => {
  it.each([
    { name: 'web-0', expected: 'web-0' },
    { name: 'my.dotted.pod', expected: 'my-dotted-pod' },
    { name: `${'a'.repeat(62)}.b`, expected: 'a'.repeat(62) },
    { name: `${'a'.repeat(61)}-.b`, expected: 'a'.repeat(61) },
    { name: 'b'.repeat(70), expected: 'b'.repeat(63) },
  ])('$name → $expected', ({ name, expected }) => {
    expect(podHostname(name)).toBe(expected);
  });

  it('keeps a hostname the user set', () => {
    expect(podToHost(virtualPod({ hostname: 'db' }), ctx).spec?.hostname).toBe('db');
  });
});

describe('podToHost: DNS', () => {
  it.each<{
    name: string;
    spec: Partial<V1PodSpec>;
    context: TranslateContext;
    policy?: string;
    config?: unknown;
  }>([
    {
      name: 'ClusterFirst without DNS IP stays ClusterFirst',
      spec: {},
      context: { vclusterName: 'pr-12', hostNamespace: 'h' },
      policy: 'ClusterFirst',
      config: undefined,
    },
    {
      name: 'Default is left alone',
      spec: { dnsPolicy: 'Default' },
      context: ctx,
      policy: 'Default',
      config: undefined,
    },
    {
      name: 'ClusterFirst with hostNetwork falls back to Default semantics',
      spec: { dnsPolicy: 'ClusterFirst', hostNetwork: true },
      context: ctx,
      policy: 'ClusterFirst',
      config: undefined,
    },
    {
      name: 'unset policy means ClusterFirst; user config is merged',
      spec: {
        dnsPolicy: undefined,
        dnsConfig: {
          nameservers: ['1.1.1.1'],
          searches: ['corp.example'],
          options: [{ name: 'ndots', value: '2' }],
        },
      },
      context: { ...ctx, clusterDomain: 'pr.local' },
      policy: 'None',
      config: {
        nameservers: ['10.96.0.53', '1.1.1.1'],
        searches: ['shop.svc.pr.local', 'svc.pr.local', 'pr.local', 'corp.example'],
        options: [{ name: 'ndots', value: '2' }],
      },
    },
    {
      name: 'ClusterFirstWithHostNet is translated',
      spec: { dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true },
      context: ctx,
      policy: 'None',
      config: {
        nameservers: ['10.96.0.53'],
        searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
        options: [{ name: 'ndots', value: '5' }],
      },
    },
  ])('$name', ({ spec, context, policy, config }) => {
    const host = podToHost(virtualPod(spec), context);
    expect(host.spec?.dnsPolicy).toBe(policy);
    expect(host.spec?.dnsConfig).toStrictEqual(config);
  });
});

describe('the virtual cluster DNS service as nameserver', () => {
  const service = (clusterIP?: string): V1Service => ({
    metadata: { name: 'kube-dns' },
    spec: { clusterIP },
  });

  it('is the host twin’s ClusterIP of the virtual kube-system/kube-dns', () => {
    expect(
      dnsServiceIPFor({ virtualService: service('10.96.0.10'), hostService: service('10.96.0.10') }),
    ).toBe('10.96.0.10');
  });

  it('is the host’s ClusterIP when the two differ (the virtual service is being recreated with it)', () => {
    expect(
      dnsServiceIPFor({ virtualService: service('10.96.0.10'), hostService: service('10.96.3.4') }),
    ).toBe('10.96.3.4');
  });

  it('waits while the virtual cluster has a DNS service that is not on the host yet', () => {
    expect(dnsServiceIPFor({ virtualService: service('10.96.0.10') })).toBe('wait');
    expect(dnsServiceIPFor({ virtualService: service('10.96.0.10'), hostService: service() })).toBe('wait');
  });

  it('is nothing without a virtual DNS service (pods keep the host’s DNS)', () => {
    expect(dnsServiceIPFor({ hostService: service('10.96.0.10') })).toBeUndefined();
  });

  it('is the configured address when one is given', () => {
    expect(dnsServiceIPFor({ configured: '10.96.0.53', virtualService: service('10.96.0.10') })).toBe(
      '10.96.0.53',
    );
  });

  it.each<[Partial<V1PodSpec> | undefined, boolean]>([
    [undefined, true],
    [{ dnsPolicy: 'ClusterFirst' }, true],
    [{ dnsPolicy: 'ClusterFirst', hostNetwork: true }, false],
    [{ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }, true],
    [{ dnsPolicy: 'Default' }, false],
    [{ dnsPolicy: 'None' }, false],
  ])('a pod with %j uses the cluster DNS: %s', (spec, expected) => {
    expect(usesClusterDns(spec as V1PodSpec | undefined)).toBe(expected);
  });
});

describe('podToHost: environment injection', () => {
  const services: V1Service[] = [
    {
      metadata: { name: 'redis-master', namespace: 'shop' },
      spec: { clusterIP: '10.96.5.5', ports: [{ name: 'redis', port: 6379, protocol: 'TCP' }] },
    },
    { metadata: { name: 'headless', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
    {
      metadata: { name: 'other-ns', namespace: 'other' },
      spec: { clusterIP: '10.96.9.9', ports: [{ port: 80 }] },
    },
  ];

  it('adds service links of the pod namespace, sorted, not shadowing the container', () => {
    const vPod = virtualPod({
      containers: [{ name: 'c', env: [{ name: 'REDIS_MASTER_SERVICE_HOST', value: 'mine' }] }],
    });
    const env = podToHost(vPod, { vclusterName: 'pr-12', hostNamespace: 'h' }, { services }).spec
      ?.containers[0]?.env;
    expect(env).toStrictEqual([
      { name: 'REDIS_MASTER_PORT', value: 'tcp://10.96.5.5:6379' },
      { name: 'REDIS_MASTER_PORT_6379_TCP', value: 'tcp://10.96.5.5:6379' },
      { name: 'REDIS_MASTER_PORT_6379_TCP_ADDR', value: '10.96.5.5' },
      { name: 'REDIS_MASTER_PORT_6379_TCP_PORT', value: '6379' },
      { name: 'REDIS_MASTER_PORT_6379_TCP_PROTO', value: 'tcp' },
      { name: 'REDIS_MASTER_SERVICE_PORT', value: '6379' },
      { name: 'REDIS_MASTER_SERVICE_PORT_REDIS', value: '6379' },
      { name: 'REDIS_MASTER_SERVICE_HOST', value: 'mine' },
    ]);
  });

  it('adds nothing when links are off and no API IP is known', () => {
    const vPod = virtualPod({ enableServiceLinks: false, containers: [{ name: 'c' }] });
    const host = podToHost(vPod, { vclusterName: 'pr-12', hostNamespace: 'h' }, { services });
    expect(host.spec?.containers[0]?.env).toBeUndefined();
  });

  it('uses the configured API port and IPv6 brackets', () => {
    const vPod = virtualPod({ containers: [{ name: 'c' }] });
    const host = podToHost(vPod, { ...ctx, kubernetesServiceIP: 'fd00::1', kubernetesServicePort: 8443 });
    const env = Object.fromEntries((host.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      KUBERNETES_SERVICE_HOST: 'fd00::1',
      KUBERNETES_SERVICE_PORT: '8443',
      KUBERNETES_PORT: 'tcp://[fd00::1]:8443',
      KUBERNETES_PORT_8443_TCP_ADDR: 'fd00::1',
    });
  });
});

describe('podToHost: volumes', () => {
  it.each<{ name: string; volume: NonNullable<V1PodSpec['volumes']>[number]; expected: unknown }>([
    {
      name: 'ephemeral volume becomes the PVC the virtual controller creates',
      volume: {
        name: 'scratch',
        ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } },
      },
      expected: {
        name: 'scratch',
        persistentVolumeClaim: { claimName: 'web-7d4b9c-x2x9q-scratch-x-shop-x-pr-12' },
      },
    },
    {
      name: 'csi secret',
      volume: { name: 'v', csi: { driver: 'd', nodePublishSecretRef: { name: 'creds' } } },
      expected: { name: 'v', csi: { driver: 'd', nodePublishSecretRef: { name: 'creds-x-shop-x-pr-12' } } },
    },
    {
      name: 'projected secret and token with audience',
      volume: {
        name: 'vault',
        projected: {
          sources: [{ secret: { name: 's' } }, { serviceAccountToken: { audience: 'vault', path: 't' } }],
        },
      },
      expected: {
        name: 'vault',
        projected: {
          sources: [
            { secret: { name: 's-x-shop-x-pr-12' } },
            {
              downwardAPI: {
                items: [
                  {
                    path: 't',
                    fieldRef: {
                      apiVersion: 'v1',
                      fieldPath: `metadata.annotations['${tokenAnnotation('vault', 1)}']`,
                    },
                    mode: 0o644,
                  },
                ],
              },
            },
          ],
        },
      },
    },
    {
      name: 'emptyDir untouched',
      volume: { name: 'tmp', emptyDir: {} },
      expected: { name: 'tmp', emptyDir: {} },
    },
  ])('$name', ({ volume, expected }) => {
    expect(podToHost(virtualPod({ volumes: [volume] }), ctx).spec?.volumes).toStrictEqual([expected]);
  });
});

describe('podToHost: affinity and spread', () => {
  it.each<{ name: string; term: Record<string, unknown>; selector: unknown }>([
    {
      name: 'same namespace',
      term: { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' },
      selector: {
        matchLabels: {
          app: 'db',
          'vcluster.loft.sh/namespace': 'shop',
          'vcluster.loft.sh/managed-by': 'pr-12',
        },
      },
    },
    {
      name: 'listed namespaces',
      term: { labelSelector: { matchLabels: { app: 'db' } }, namespaces: ['a', 'b'], topologyKey: 'zone' },
      selector: {
        matchLabels: { app: 'db', 'vcluster.loft.sh/managed-by': 'pr-12' },
        matchExpressions: [{ key: 'vcluster.loft.sh/namespace', operator: 'In', values: ['a', 'b'] }],
      },
    },
    {
      name: 'all namespaces',
      term: { labelSelector: { matchLabels: { app: 'db' } }, namespaceSelector: {}, topologyKey: 'zone' },
      selector: { matchLabels: { app: 'db', 'vcluster.loft.sh/managed-by': 'pr-12' } },
    },
    {
      name: 'namespace labels',
      term: {
        labelSelector: { matchLabels: { app: 'db' } },
        namespaceSelector: { matchLabels: { team: 'x' } },
        topologyKey: 'zone',
      },
      selector: {
        matchLabels: {
          app: 'db',
          [`vcluster.loft.sh/ns-label-pr-12-x-${hash10('team')}`]: 'x',
          'vcluster.loft.sh/managed-by': 'pr-12',
        },
      },
    },
    { name: 'null selector matches nothing', term: { topologyKey: 'zone' }, selector: undefined },
  ])('pod affinity: $name', ({ term, selector }) => {
    const vPod = virtualPod({
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term as never] } },
    });
    const hostTerm = podToHost(vPod, ctx).spec?.affinity?.podAntiAffinity
      ?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
    expect(hostTerm?.labelSelector).toStrictEqual(selector);
    expect(hostTerm?.namespaces).toBeUndefined();
    expect(hostTerm?.namespaceSelector).toBeUndefined();
  });

  it('scopes topology spread constraints to this vcluster namespace', () => {
    const vPod = virtualPod({
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'zone',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { release: 'r' } },
        },
      ],
    });
    expect(podToHost(vPod, ctx).spec?.topologySpreadConstraints?.[0]?.labelSelector).toStrictEqual({
      matchLabels: {
        [`vcluster.loft.sh/label-pr-12-x-${hash10('release')}`]: 'r',
        'vcluster.loft.sh/namespace': 'shop',
        'vcluster.loft.sh/managed-by': 'pr-12',
      },
    });
  });

  it('labels the pod with its namespace labels', () => {
    const host = podToHost(virtualPod(), ctx, { namespaceLabels: { team: 'x' } });
    expect(host.metadata?.labels?.[`vcluster.loft.sh/ns-label-pr-12-x-${hash10('team')}`]).toBe('x');
  });
});

describe('podReferences', () => {
  it('lists every configmap, secret and claim the pod uses', () => {
    const vPod = virtualPod({
      initContainers: [
        {
          name: 'init',
          env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'init-secret', key: 'k' } } }],
        },
      ],
      volumes: [
        ...(virtualPod().spec?.volumes ?? []),
        { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
        { name: 'azure', azureFile: { secretName: 'azure-creds', shareName: 's' } },
      ],
    });
    expect(podReferences(vPod)).toStrictEqual({
      configMaps: ['common', 'kube-root-ca.crt', 'settings'],
      secrets: ['api-keys', 'azure-creds', 'db', 'init-secret', 'regcred', 'tls'],
      persistentVolumeClaims: ['data', 'web-7d4b9c-x2x9q-scratch'],
    });
  });

  it('is empty for a pod without references', () => {
    expect(
      podReferences({ metadata: { name: 'p', namespace: 'n' }, spec: { containers: [{ name: 'c' }] } }),
    ).toStrictEqual({
      configMaps: [],
      secrets: [],
      persistentVolumeClaims: [],
    });
  });
});

describe('service account tokens', () => {
  it('lists the tokens to mint, each with its host annotation', () => {
    const vPod = virtualPod({ serviceAccountName: 'builder' });
    expect(podServiceAccountTokens(vPod, ctx)).toStrictEqual([
      {
        annotation: apiAccessToken,
        serviceAccountName: 'builder',
        audiences: [
          'https://kubernetes.default.svc.cluster.local',
          'https://kubernetes.default.svc',
          'https://kubernetes.default',
        ],
        expirationSeconds: 315360000,
        boundPod: { name: 'web-7d4b9c-x2x9q', uid: 'pod-uid-1' },
      },
    ]);
  });

  it.each([
    { volume: 'kube-api-access-abcde', index: 0 },
    { volume: 'tokens', index: 1 },
  ])(
    'names the annotation of $volume source $index like vcluster (prefix + 8 characters)',
    ({ volume, index }) => {
      expect(saTokenAnnotation(volume, index)).toBe(tokenAnnotation(volume, index));
      expect(saTokenAnnotation(volume, index)).toMatch(/^vcluster\.loft\.sh\/token-[0-9a-f]{8}$/);
    },
  );

  it('gives two tokens of one volume an annotation each', () => {
    const vPod = virtualPod({
      volumes: [
        {
          name: 'tokens',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'a', audience: 'x' } },
              { serviceAccountToken: { path: 'b', audience: 'y' } },
            ],
          },
        },
      ],
    });
    expect(podServiceAccountTokens(vPod, ctx).map((t) => [t.annotation, t.audiences])).toStrictEqual([
      [tokenAnnotation('tokens', 0), ['x']],
      [tokenAnnotation('tokens', 1), ['y']],
    ]);
    const sources = podToHost(vPod, ctx).spec?.volumes?.[0]?.projected?.sources;
    expect(sources?.map((s) => s.downwardAPI?.items?.[0]?.fieldRef?.fieldPath)).toStrictEqual([
      `metadata.annotations['${tokenAnnotation('tokens', 0)}']`,
      `metadata.annotations['${tokenAnnotation('tokens', 1)}']`,
    ]);
  });

  it('puts the minted tokens on the host pod as annotations it owns', () => {
    const host = podToHost(virtualPod(), ctx, { tokens: { [apiAccessToken]: 'jwt', 'not-a-source': 'x' } });
    expect(host.metadata?.annotations?.[apiAccessToken]).toBe('jwt');
    // only the pod's own token sources: anything else passed in is not the pod's
    expect(host.metadata?.annotations?.['not-a-source']).toBeUndefined();
    expect(host.metadata?.annotations?.['vcluster.loft.sh/managed-annotations']?.split('\n')).toContain(
      apiAccessToken,
    );
    // no secret is involved any more
    expect(JSON.stringify(host.spec?.volumes)).not.toContain('sa-token');
  });

  it('leaves the annotation out without a minted token', () => {
    expect(podToHost(virtualPod(), ctx).metadata?.annotations?.[apiAccessToken]).toBeUndefined();
  });

  it('keeps the host pod tokens on update (they are minted only at creation)', () => {
    const vPod = virtualPod();
    const host = podToHost(vPod, ctx, { tokens: { [apiAccessToken]: 'jwt' } });
    expect(podUpdateToHost(vPod, host, ctx)).toBeUndefined();
    const relabelled = structuredClone(vPod);
    relabelled.metadata!.labels!.tier = 'front';
    expect(podUpdateToHost(relabelled, host, ctx)?.metadata?.annotations?.[apiAccessToken]).toBeUndefined();
  });
});

describe('podLabelsAnnotation', () => {
  it.each([
    { labels: undefined, expected: '' },
    { labels: { b: '2', a: '1' }, expected: 'a="1"\nb="2"' },
  ])('$labels', ({ labels, expected }) => {
    expect(podLabelsAnnotation(labels)).toBe(expected);
  });
});

describe('podUpdateToHost', () => {
  const base = virtualPod({
    tolerations: [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ],
    schedulingGates: [{ name: 'a' }, { name: 'b' }],
    activeDeadlineSeconds: 600,
  });
  const host = podToHost(base, ctx);

  it.each<{ name: string; change: (p: V1Pod) => void; expected: unknown }>([
    { name: 'nothing changed', change: () => {}, expected: undefined },
    {
      name: 'image changed',
      change: (p) => {
        p.spec!.containers[0]!.image = 'nginx:1.26';
      },
      expected: { spec: { containers: [{ ...host.spec?.containers[0], image: 'nginx:1.26' }] } },
    },
    {
      name: 'deadline lowered',
      change: (p) => {
        p.spec!.activeDeadlineSeconds = 60;
      },
      expected: { spec: { activeDeadlineSeconds: 60 } },
    },
    {
      name: 'deadline raised is not allowed on a pod',
      change: (p) => {
        p.spec!.activeDeadlineSeconds = 6000;
      },
      expected: undefined,
    },
    {
      name: 'toleration added in the virtual cluster: the host’s are the operator’s, nothing changes',
      change: (p) => {
        p.spec!.tolerations!.push({ key: 'gpu', operator: 'Exists' });
      },
      expected: undefined,
    },
    {
      name: 'scheduling gate removed',
      change: (p) => {
        p.spec!.schedulingGates = [{ name: 'b' }];
      },
      expected: { spec: { schedulingGates: [{ name: 'b' }] } },
    },
    {
      name: 'label changed',
      change: (p) => {
        p.metadata!.labels = { ...p.metadata!.labels, app: 'web2' };
      },
      expected: {
        metadata: {
          labels: { app: 'web2' },
          annotations: {
            'vcluster.loft.sh/labels': 'app="web2"\npod-template-hash="7d4b9c"\nrelease="stable"',
          },
        },
      },
    },
    {
      name: 'owner removed',
      change: (p) => {
        p.metadata!.ownerReferences = [];
      },
      expected: {
        metadata: {
          annotations: {
            'vcluster.loft.sh/owner-references': null,
            'vcluster.loft.sh/owner-set-kind': null,
            'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false',
            'vcluster.loft.sh/managed-annotations': [
              'cluster-autoscaler.kubernetes.io/safe-to-evict',
              'prometheus.io/scrape',
              'vcluster.loft.sh/labels',
              'vcluster.loft.sh/name',
              'vcluster.loft.sh/namespace',
              'vcluster.loft.sh/service-account-name',
              'vcluster.loft.sh/uid',
            ].join('\n'),
          },
        },
      },
    },
  ])('$name', ({ change, expected }) => {
    const vPod = structuredClone(base);
    change(vPod);
    expect(podUpdateToHost(vPod, host, ctx)).toStrictEqual(expected);
  });

  it('does not touch annotations someone added on the host', () => {
    const hostWithExtra = structuredClone(host);
    hostWithExtra.metadata!.annotations = {
      ...hostWithExtra.metadata!.annotations,
      'kubectl.kubernetes.io/restartedAt': 'x',
    };
    expect(podUpdateToHost(base, hostWithExtra, ctx)).toBeUndefined();
  });
});

describe('podStatusToVirtual', () => {
  const vPod = virtualPod();
  it.each<{ name: string; host: V1Pod; expected: unknown }>([
    { name: 'host has no status yet', host: { metadata: {} }, expected: undefined },
    {
      name: 'running on the host; qosClass stays virtual',
      host: {
        status: { phase: 'Running', podIP: '10.244.1.7', hostIP: '172.18.0.2', qosClass: 'Burstable' },
      },
      expected: { phase: 'Running', podIP: '10.244.1.7', hostIP: '172.18.0.2', qosClass: 'BestEffort' },
    },
    {
      name: 'already equal',
      host: { status: { phase: 'Pending', qosClass: 'Guaranteed' } },
      expected: undefined,
    },
  ])('$name', ({ host, expected }) => {
    expect(podStatusToVirtual(host, vPod)).toStrictEqual(expected);
  });

  const scheduledAt = (at: string): V1PodCondition => ({
    type: 'PodScheduled',
    status: 'True',
    lastTransitionTime: new Date(at),
  });
  const hostScheduled: V1Pod = {
    spec: { containers: [], nodeName: 'kwok-node-3' },
    status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [scheduledAt('2024-05-01T10:00:01Z')] },
  };
  const unbound = virtualPod({ nodeName: undefined });
  const bound = virtualPod({ nodeName: 'kwok-node-3' });
  bound.status = {
    phase: 'Pending',
    qosClass: 'BestEffort',
    conditions: [scheduledAt('2024-05-01T10:00:02Z')],
  };

  it.each<{ name: string; host: V1Pod; virtual: V1Pod; writes: boolean }>([
    // the Binding written in the same reconcile shows the same thing
    {
      name: 'host only scheduled, virtual about to be bound',
      host: hostScheduled,
      virtual: unbound,
      writes: false,
    },
    {
      name: 'host only scheduled, virtual bound at another instant',
      host: hostScheduled,
      virtual: bound,
      writes: false,
    },
    {
      name: 'host unschedulable (a reason the user must see)',
      host: {
        status: {
          phase: 'Pending',
          conditions: [
            { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' },
          ],
        },
      },
      virtual: unbound,
      writes: true,
    },
    {
      name: 'host running',
      host: { ...hostScheduled, status: { ...hostScheduled.status, phase: 'Running', podIP: '10.244.1.7' } },
      virtual: bound,
      writes: true,
    },
  ])('$name: writes $writes', ({ host, virtual, writes }) => {
    const status = podStatusToVirtual(host, virtual);
    expect(status !== undefined).toBe(writes);
    // when it writes, it writes the host's status, scheduling time included
    if (status) expect(status.conditions).toStrictEqual(host.status?.conditions);
  });
});

describe('podNodeNameToVirtual', () => {
  it.each<{ hostNode?: string; virtualNode?: string; expected?: string }>([
    { hostNode: 'node-1', virtualNode: undefined, expected: 'node-1' },
    { hostNode: undefined, virtualNode: undefined, expected: undefined },
    { hostNode: 'node-1', virtualNode: 'node-1', expected: undefined },
  ])('host $hostNode, virtual $virtualNode → $expected', ({ hostNode, virtualNode, expected }) => {
    const host: V1Pod = { spec: { containers: [], nodeName: hostNode } };
    const virtual: V1Pod = { spec: { containers: [], nodeName: virtualNode } };
    expect(podNodeNameToVirtual(host, virtual)).toBe(expected);
  });
});

describe('podToHost keeps scheduling the operator’s', () => {
  const vPod = (spec: Partial<V1Pod['spec']>): V1Pod => ({
    metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
  });
  const ctx: TranslateContext = { vclusterName: 'pr-1', hostNamespace: 'preview-pr-1' };

  it.each([
    ['nodeSelector', { nodeSelector: { 'kubernetes.io/hostname': 'control-plane' } }],
    ['tolerations', { tolerations: [{ operator: 'Exists' }] }],
    ['runtimeClassName', { runtimeClassName: 'privileged-runtime' }],
    ['schedulerName', { schedulerName: 'my-scheduler' }],
    ['preemptionPolicy', { preemptionPolicy: 'PreemptLowerPriority' }],
    ['nodeName', { nodeName: 'control-plane' }],
    ['priorityClassName', { priorityClassName: 'system-cluster-critical' }],
  ])('drops %s', (field, spec) => {
    const host = podToHost(vPod(spec as Partial<V1Pod['spec']>), ctx);
    expect(host.spec).not.toHaveProperty(field);
  });

  it('drops node affinity and keeps pod affinity, and names what it dropped', () => {
    const pod = vPod({
      nodeSelector: { disk: 'ssd' },
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
      },
    });
    const host = podToHost(pod, ctx);
    expect(host.spec?.affinity).toEqual({
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
    });
    expect(droppedSchedulingFields(pod)).toEqual(['spec.nodeSelector', 'spec.affinity.nodeAffinity']);
    expect(droppedSchedulingFields(vPod({}))).toEqual([]);
  });

  const admissionTolerations = ['not-ready', 'unreachable'].map((reason) => ({
    key: `node.kubernetes.io/${reason}`,
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: 300,
  }));
  it.each<{ what: string; spec: Partial<V1Pod['spec']>; named: string[] }>([
    {
      what: 'what admission writes into every pod',
      spec: {
        schedulerName: 'default-scheduler',
        preemptionPolicy: 'PreemptLowerPriority',
        tolerations: admissionTolerations,
      },
      named: [],
    },
    {
      what: 'a toleration of its own beside the defaults',
      spec: { tolerations: [...admissionTolerations, { operator: 'Exists' }] },
      named: ['spec.tolerations'],
    },
    {
      what: 'a default toleration kept longer than the default',
      spec: { tolerations: [{ ...admissionTolerations[0]!, tolerationSeconds: 86_400 }] },
      named: ['spec.tolerations'],
    },
    { what: 'another scheduler', spec: { schedulerName: 'my-scheduler' }, named: ['spec.schedulerName'] },
    { what: 'never preempting', spec: { preemptionPolicy: 'Never' }, named: ['spec.preemptionPolicy'] },
  ])('names $what: $named', ({ spec, named }) => {
    expect(droppedSchedulingFields(vPod(spec))).toEqual(named);
  });
});
