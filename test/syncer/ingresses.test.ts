import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Event, V1Ingress } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ignoreNotFound } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import { waitUntil } from '../../kube/wait.ts';
import { ingressSyncer } from '../../syncer/kinds/ingresses.ts';
import { podSyncer } from '../../syncer/kinds/pods.ts';
import { secretSyncer } from '../../syncer/kinds/secrets.ts';
import { runBinary } from '../support/kubectl.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

const DOMAIN = 'pr-12.preview.example.com';
const WAIT = { timeoutMs: 60_000 };

describe('ingresses, with real kubectl against the virtual cluster', () => {
  let vc: VirtualClusterUnderTest;
  let manifests: string;
  const kubectl = (...args: string[]) => runBinary('kubectl', args, { kubeconfig: vc.kubeconfigPath });
  const apply = async (name: string, yaml: string) => {
    const file = join(manifests, `${name}.yaml`);
    writeFileSync(file, yaml);
    return kubectl('apply', '-f', file);
  };
  const hostNameOf = (name: string, namespace: string) => `${name}-x-${namespace}-x-${vc.name}`;
  const readHost = (name: string): Promise<V1Ingress | undefined> =>
    vc.host.networking.readNamespacedIngress({ name, namespace: vc.hostNamespace }).catch(ignoreNotFound);
  const ingressYaml = (name: string, namespace: string, host: string | undefined, path = '/') => `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  rules:
  - ${host ? `host: ${host}\n    ` : ''}http:
      paths:
      - path: ${path}
        pathType: Prefix
        backend:
          service:
            name: ${name}
            port:
              number: 80
`;
  const warnings = async (namespace: string, name: string): Promise<CoreV1Event[]> => {
    const out = await kubectl(
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.kind=Ingress,involvedObject.name=${name},reason=HostNotAllowed`,
      '-o',
      'json',
    );
    return JSON.parse(out).items;
  };

  beforeAll(async () => {
    vc = await startVirtualCluster({
      resourceSyncers: [podSyncer(), ingressSyncer(), secretSyncer()] as never,
      allowedHostSuffix: DOMAIN,
    });
    manifests = await mkdtemp(join(tmpdir(), 'vcp-ingress-test-'));
    await kubectl('create', 'namespace', 'shop');
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('syncs an ingress in the preview domain down with translated backends and TLS, updates, status, deletes', async () => {
    await kubectl(
      'create',
      'secret',
      'generic',
      'web-tls',
      '-n',
      'shop',
      '--type=kubernetes.io/tls',
      '--from-literal=tls.crt=cert',
      '--from-literal=tls.key=key',
    );
    await apply(
      'web',
      `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  tls:
  - hosts: [app.${DOMAIN}]
    secretName: web-tls
  rules:
  - host: app.${DOMAIN}
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
`,
    );
    const hostName = hostNameOf('web', 'shop');
    const created = await waitUntil(() => readHost(hostName), { what: `host ingress ${hostName}`, ...WAIT });
    const virtualUid = JSON.parse(await kubectl('get', 'ingress', 'web', '-n', 'shop', '-o', 'json')).metadata
      .uid;
    expect(created.metadata?.labels).toMatchObject({
      app: 'web',
      'vcluster.loft.sh/managed-by': vc.name,
      'vcluster.loft.sh/namespace': 'shop',
    });
    expect(created.metadata?.annotations).toMatchObject({
      'vcluster.loft.sh/object-name': 'web',
      'vcluster.loft.sh/object-namespace': 'shop',
      'vcluster.loft.sh/object-uid': virtualUid,
    });
    expect(created.spec?.rules?.[0]?.host).toBe(`app.${DOMAIN}`);
    expect(created.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.name).toBe(hostNameOf('web', 'shop'));
    expect(created.spec?.rules?.[0]?.http?.paths[0]?.backend.service?.port?.number).toBe(80);
    expect(created.spec?.tls).toEqual([
      { hosts: [`app.${DOMAIN}`], secretName: hostNameOf('web-tls', 'shop') },
    ]);

    // An update in the virtual cluster goes down.
    await kubectl(
      'patch',
      'ingress',
      'web',
      '-n',
      'shop',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/rules/0/http/paths/0/path","value":"/api"}]',
    );
    await waitUntil(
      async () => (await readHost(hostName))?.spec?.rules?.[0]?.http?.paths[0]?.path === '/api',
      { what: 'the host ingress path to become /api', ...WAIT },
    );

    // The host's ingress controller publishes an address: it shows on the virtual ingress.
    await vc.host.networking.patchNamespacedIngressStatus(
      {
        name: hostName,
        namespace: vc.hostNamespace,
        body: { status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } } },
      },
      mergePatch,
    );
    await waitUntil(
      async () =>
        (await kubectl(
          'get',
          'ingress',
          'web',
          '-n',
          'shop',
          '-o',
          'jsonpath={.status.loadBalancer.ingress[0].ip}',
        )) === '203.0.113.10',
      { what: 'the load-balancer IP on the virtual ingress', ...WAIT },
    );
    expect(await kubectl('get', 'ingress', 'web', '-n', 'shop')).toContain('203.0.113.10');

    // Deleting the host copy brings it back.
    await vc.host.networking.deleteNamespacedIngress({ name: hostName, namespace: vc.hostNamespace });
    const recreated = await waitUntil(
      async () => {
        const ingress = await readHost(hostName);
        return ingress && ingress.metadata?.uid !== created.metadata?.uid ? ingress : undefined;
      },
      { what: 'the host ingress to be recreated', ...WAIT },
    );
    expect(recreated.spec?.rules?.[0]?.http?.paths[0]?.path).toBe('/api');

    // Deleting the virtual ingress removes the host one.
    await kubectl('delete', 'ingress', 'web', '-n', 'shop');
    await waitUntil(async () => (await readHost(hostName)) === undefined, {
      what: 'the host ingress to be deleted',
      ...WAIT,
    });
  });

  it('keeps ingress controller, DNS and certificate annotations off the host, with an event; others pass', async () => {
    // The Secret a fenced ingress-nginx annotation names is not copied for it either.
    await kubectl('create', 'secret', 'generic', 'basic', '-n', 'shop', '--from-literal=auth=u:p');
    await apply(
      'snippet',
      ingressYaml('snippet', 'shop', `snippet.${DOMAIN}`).replace(
        'metadata:\n  name: snippet\n  namespace: shop\n',
        [
          'metadata:',
          '  name: snippet',
          '  namespace: shop',
          '  annotations:',
          '    nginx.ingress.kubernetes.io/server-snippet: "location /x { proxy_pass http://169.254.169.254/; }"',
          '    cert-manager.io/cluster-issuer: letsencrypt',
          '    external-dns.alpha.kubernetes.io/hostname: www.victim.example.com',
          '    example.com/owner: shop-team',
          '    nginx.ingress.kubernetes.io/auth-secret: basic',
          '',
        ].join('\n'),
      ),
    );
    const hostName = hostNameOf('snippet', 'shop');
    const created = await waitUntil(() => readHost(hostName), { what: `host ingress ${hostName}`, ...WAIT });
    const annotations = created.metadata?.annotations ?? {};
    expect(annotations['example.com/owner']).toBe('shop-team');
    for (const key of [
      'nginx.ingress.kubernetes.io/server-snippet',
      'cert-manager.io/cluster-issuer',
      'external-dns.alpha.kubernetes.io/hostname',
    ])
      expect(annotations[key], key).toBeUndefined();
    const dropped = await waitUntil(
      async () => {
        const out = await kubectl(
          'get',
          'events',
          '-n',
          'shop',
          '--field-selector',
          'involvedObject.kind=Ingress,involvedObject.name=snippet,reason=AnnotationsDropped',
          '-o',
          'json',
        );
        const items = JSON.parse(out).items as CoreV1Event[];
        return items.length > 0 ? items : undefined;
      },
      { what: 'an AnnotationsDropped event on the virtual ingress', ...WAIT },
    );
    expect(dropped[0]?.message).toContain(
      'cert-manager.io/cluster-issuer, external-dns.alpha.kubernetes.io/hostname, nginx.ingress.kubernetes.io/auth-secret, nginx.ingress.kubernetes.io/server-snippet left out on the host',
    );
    await expect(
      vc.host.core.readNamespacedSecret({ name: `basic-x-shop-x-${vc.name}`, namespace: vc.hostNamespace }),
    ).rejects.toMatchObject({ code: 404 });
    await kubectl('delete', 'ingress', 'snippet', '-n', 'shop');
  });

  it('holds back ingresses for hosts outside the preview domain, with a warning event, until fixed', async () => {
    await apply('evil', ingressYaml('evil', 'shop', 'evil.example.com'));
    await apply('sibling', ingressYaml('sibling', 'shop', 'pr-13.preview.example.com'));
    await apply('catchall', ingressYaml('catchall', 'shop', undefined));

    for (const [name, offending] of [
      ['evil', 'evil.example.com'],
      ['sibling', 'pr-13.preview.example.com'],
      ['catchall', '*'],
    ] as const) {
      const [event] = await waitUntil(
        async () => {
          const items = await warnings('shop', name);
          return items.length > 0 ? items : undefined;
        },
        { what: `a HostNotAllowed warning on ingress shop/${name}`, ...WAIT },
      );
      expect(event?.type).toBe('Warning');
      expect(event?.message).toContain(offending);
      expect(event?.message).toContain(DOMAIN);
      // The warning is recorded instead of syncing: no host copy, ever.
      expect(await readHost(hostNameOf(name, 'shop'))).toBeUndefined();
    }
    const table = await kubectl('get', 'events', '-n', 'shop');
    expect(table).toContain('HostNotAllowed');
    expect(table).toContain('ingress/evil');
    expect(table).toContain('evil.example.com');

    // Fixing the host syncs it.
    await apply('evil', ingressYaml('evil', 'shop', `evil.${DOMAIN}`));
    const fixed = await waitUntil(() => readHost(hostNameOf('evil', 'shop')), {
      what: 'the fixed ingress on the host',
      ...WAIT,
    });
    expect(fixed.spec?.rules?.[0]?.host).toBe(`evil.${DOMAIN}`);
    expect(await readHost(hostNameOf('sibling', 'shop'))).toBeUndefined();
    expect(await readHost(hostNameOf('catchall', 'shop'))).toBeUndefined();
  });

  it('removes the host copy when a synced ingress moves to a host outside the domain', async () => {
    await apply('mover', ingressYaml('mover', 'shop', `mover.${DOMAIN}`));
    const hostName = hostNameOf('mover', 'shop');
    await waitUntil(() => readHost(hostName), { what: `host ingress ${hostName}`, ...WAIT });

    await apply('mover', ingressYaml('mover', 'shop', 'mover.example.org'));
    await waitUntil(async () => (await readHost(hostName)) === undefined, {
      what: 'the host copy of the moved ingress to be removed',
      ...WAIT,
    });
    const [event] = await waitUntil(
      async () => {
        const items = await warnings('shop', 'mover');
        return items.length > 0 ? items : undefined;
      },
      { what: 'a HostNotAllowed warning on ingress shop/mover', ...WAIT },
    );
    expect(event?.message).toContain('mover.example.org');
  });
});
