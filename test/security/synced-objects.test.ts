import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { isGone, type KubeClients, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { seedExample } from '../support/preview-service.ts';
import { restrictedContainer } from '../support/restricted-container.ts';
import { pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'mallory';
const REPO = 'shop';
const FULL_NAME = `${OWNER}/${REPO}`;
const OPERATOR_CLASS = 'operators-class';
const WAIT = { timeoutMs: 120_000, intervalMs: 250 };

/** The attacks, as a pull request's own manifests beside the example app. */
const attacks = (hostApiAddress: string) =>
  [
    // A DNS alias in the shared cluster, pointing at the host's API server.
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'alias' },
      spec: { type: 'ExternalName', externalName: 'kubernetes.default.svc.cluster.local' },
    },
    // A port on every node of the host.
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'open' },
      spec: { type: 'NodePort', selector: { app: 'hello' }, ports: [{ port: 80, nodePort: 30080 }] },
    },
    // A selector-less Service whose hand-written Endpoints lead to the host API server.
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'tunnel' }, spec: { ports: [{ port: 443 }] } },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'tunnel' },
      subsets: [{ addresses: [{ ip: hostApiAddress }], ports: [{ port: 443 }] }],
    },
    // The ingress controller's configuration and a certificate from the operator's issuer.
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'sneaky',
        annotations: {
          'nginx.ingress.kubernetes.io/server-snippet': 'location /x { proxy_pass http://169.254.169.254; }',
          'cert-manager.io/cluster-issuer': 'production',
        },
      },
      spec: {
        ingressClassName: 'internal-only',
        rules: [
          {
            host: `pr-1-shop-mallory.preview.test`,
            http: {
              paths: [
                {
                  path: '/admin',
                  pathType: 'Prefix',
                  backend: { service: { name: 'hello', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
    // A pod that picks its node, tolerates every taint and asks for another scheduler.
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'squatter' },
      spec: {
        nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
        tolerations: [{ operator: 'Exists' }],
        schedulerName: 'my-scheduler',
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'kubernetes.io/hostname', operator: 'In', values: ['control-plane'] },
                  ],
                },
              ],
            },
          },
        },
        containers: [restrictedContainer],
      },
    },
  ]
    .map((object) => JSON.stringify(object))
    .join('\n---\n');

/**
 * What the syncer copies to the shared host, through the real path (signed webhook → worker →
 * virtual cluster → syncer → host): a pull request's manifests ask for a DNS alias, a node port,
 * Endpoints to the host API server, the ingress controller's snippets and another Ingress class, and
 * a pod that picks its node; the host gets none of it, the virtual cluster says what was dropped and
 * why in events, and the preview beside the attacks is ready with its URL.
 */
describe('security: what a preview’s objects may become on the host', () => {
  let flow: PreviewFlow;
  const hostKubeconfig = inject('hostKubeconfig');
  const host = kubeClients(hostKubeconfig);
  const ref = previewName(FULL_NAME, 1);
  const hostName = (name: string) => `${name}-x-default-x-${ref.name}`;
  let virtual: KubeClients;

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig,
      redisUrl: inject('redisUrl'),
      settings: { PREVIEW_INGRESS_CLASS: OPERATOR_CLASS },
    });

    // The host API server's Service address: not a pod of this preview.
    const hostApiAddress = (
      await host.core.readNamespacedService({ name: 'kubernetes', namespace: 'default' })
    ).spec?.clusterIP;
    expect(hostApiAddress).toBeTruthy();
    const headSha = randomBytes(20).toString('hex');
    await seedExample(flow.github, OWNER, REPO, headSha);
    flow.github.setFile(OWNER, REPO, headSha, 'deploy/attacks.yaml', attacks(hostApiAddress!));
    const pr = { owner: OWNER, repo: REPO, number: 1, headSha };
    flow.github.addPullRequest(pr);
    expect((await flow.post('pull_request', pullRequestEvent('opened', pr))).status).toBeLessThan(300);
    await waitUntil(
      async () => {
        const body = flow.stickyBody(1);
        if (body.includes('Preview failed')) throw new Error(`the preview failed:\n${body}`);
        return body.includes('🚀 Preview ready') || undefined;
      },
      { what: `${FULL_NAME}#1 ready beside its attacks`, ...WAIT },
    );
    virtual = await flow.virtual(1);
  }, 240_000);

  afterAll(async () => {
    await flow?.stop();
  });

  /** The virtual cluster's event of `reason` on `name`: what the pull request's author reads. */
  const eventFor = (kind: string, name: string, reason: string): Promise<CoreV1Event> =>
    waitUntil(
      async () =>
        (
          await virtual.core.listNamespacedEvent({
            namespace: 'default',
            fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name},reason=${reason}`,
          })
        ).items[0],
      { what: `a ${reason} event on ${kind} ${name}`, ...WAIT },
    );
  const hostService = (name: string) =>
    host.core.readNamespacedService({ name: hostName(name), namespace: ref.namespace });

  it('an ExternalName Service never reaches the host, and its owner is told why', async () => {
    const event = await eventFor('Service', 'alias', 'ServiceNotSynced');
    expect(event.message).toContain('previews may not create DNS aliases');
    expect(await isGone(() => hostService('alias'))).toBe(true);
    // The honest Service beside it is on the host.
    expect((await hostService('hello')).spec?.type).toBe('ClusterIP');
  });

  it('a NodePort Service reaches the host as ClusterIP, without a node port', async () => {
    const event = await eventFor('Service', 'open', 'ServiceTypeChanged');
    expect(event.message).toContain('synced as ClusterIP');
    const open = await waitUntil(async () => hostService('open').catch(() => undefined), {
      what: 'the host Service of open',
      ...WAIT,
    });
    expect(open.spec?.type).toBe('ClusterIP');
    expect(open.spec?.ports?.every((port) => port.nodePort === undefined)).toBe(true);
  });

  it('Endpoints written by hand to an address that is not the preview’s own pod stay in the preview', async () => {
    const event = await eventFor('Endpoints', 'tunnel', 'EndpointsNotSynced');
    expect(event.message).toMatch(/not .*pod/i);
    await waitUntil(async () => hostService('tunnel').catch(() => undefined), {
      what: 'the host Service of tunnel (selector-less, synced)',
      ...WAIT,
    });
    const hostEndpoints = await host.core
      .readNamespacedEndpoints({ name: hostName('tunnel'), namespace: ref.namespace })
      .catch(() => undefined);
    const addresses = (hostEndpoints?.subsets ?? []).flatMap((subset) => subset.addresses ?? []);
    expect(addresses).toEqual([]);
  });

  it('an Ingress gets the operator’s class and none of the controller’s or certificate annotations', async () => {
    const event = await eventFor('Ingress', 'sneaky', 'AnnotationsDropped');
    expect(event.message).toContain('nginx.ingress.kubernetes.io/server-snippet');
    const ingress = await waitUntil(
      async () =>
        host.networking
          .readNamespacedIngress({ name: hostName('sneaky'), namespace: ref.namespace })
          .catch(() => undefined),
      { what: 'the host Ingress of sneaky', ...WAIT },
    );
    expect(ingress.spec?.ingressClassName).toBe(OPERATOR_CLASS);
    const annotations = Object.keys(ingress.metadata?.annotations ?? {});
    expect(annotations.filter((key) => key.startsWith('nginx.') || key.startsWith('cert-manager.'))).toEqual(
      [],
    );
  });

  it('a pod’s node selector, tolerations, affinity and scheduler are the operator’s, not the pull request’s', async () => {
    const event = await eventFor('Pod', 'squatter', 'SchedulingFieldsDropped');
    expect(event.message).toContain('nodeSelector');
    const pod = await waitUntil(
      async () =>
        host.core
          .readNamespacedPod({ name: hostName('squatter'), namespace: ref.namespace })
          .catch(() => undefined),
      { what: 'the host pod of squatter', ...WAIT },
    );
    expect(pod.spec?.nodeSelector ?? {}).not.toHaveProperty('node-role.kubernetes.io/control-plane');
    expect(pod.spec?.tolerations ?? []).not.toContainEqual({ operator: 'Exists' });
    expect(pod.spec?.schedulerName ?? 'default-scheduler').toBe('default-scheduler');
    expect(JSON.stringify(pod.spec?.affinity ?? {})).not.toContain('control-plane');
  });
});
