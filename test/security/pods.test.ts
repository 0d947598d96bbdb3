import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { previewName } from '../../app/desired-state.ts';
import { isGone, kubeClients } from '../../kube/client.ts';
import { waitUntil } from '../../kube/wait.ts';
import { type PreviewFlow, startPreviewFlow } from '../support/preview-flow.ts';
import { EXAMPLE_HELLO, seedExample } from '../support/preview-service.ts';
import { pullRequestEvent } from '../support/webhooks.ts';

const OWNER = 'eve';
const REPO = 'shop';
const FULL_NAME = `${OWNER}/${REPO}`;
const WAIT = { timeoutMs: 240_000, intervalMs: 250 };
const LONG = 420_000;

/** The example's Deployment with `edit` applied to its text, failing fast when its pods do not come. */
async function deployment(edit: (yaml: string) => string): Promise<string> {
  const yaml = await readFile(join(EXAMPLE_HELLO, 'deploy', 'deployment.yaml'), 'utf8');
  const fast = yaml.replace(
    'spec:\n  replicas: 2\n',
    'spec:\n  replicas: 1\n  progressDeadlineSeconds: 15\n',
  );
  expect(fast).not.toBe(yaml);
  const edited = edit(fast);
  expect(edited).not.toBe(fast);
  return edited;
}

const withVolume = (volume: string) => (yaml: string) =>
  yaml.replace('      volumes:\n', `      volumes:\n${volume}`);

/**
 * What a pull request's pods may use on the host is the operator's: through the real path (signed
 * webhook → worker → virtual cluster → syncer → host), a pod with a volume outside the allowlist
 * and a claim of a storage class the operator has not allowed never reach the host; the virtual
 * cluster holds an event saying why and the sticky comment's failure names it, while an honest
 * preview beside them is ready.
 */
describe('security: pod volumes and storage classes', () => {
  let flow: PreviewFlow;
  const host = kubeClients(inject('hostKubeconfig'));

  beforeAll(async () => {
    flow = await startPreviewFlow({
      owner: OWNER,
      repo: REPO,
      hostKubeconfig: inject('hostKubeconfig'),
      redisUrl: inject('redisUrl'),
      settings: { PREVIEW_ALLOW_STORAGE_CLASSES: 'standard' },
    });
  }, LONG);

  afterAll(async () => {
    await flow?.stop();
  }, LONG);

  /** Opens a pull request of the example app with `files` (path → text) changed. */
  const heads = new Map<number, string>();
  /** Opens a pull request of the example app with `files` (path → text) changed, or pushes to it. */
  const open = async (pr: number, files: Record<string, string> = {}) => {
    const headSha = randomBytes(20).toString('hex');
    await seedExample(flow.github, OWNER, REPO, headSha);
    for (const [path, text] of Object.entries(files)) flow.github.setFile(OWNER, REPO, headSha, path, text);
    const spec = { owner: OWNER, repo: REPO, number: pr, headSha };
    const before = heads.get(pr);
    if (before) flow.github.updatePullRequest(OWNER, REPO, pr, { headSha });
    else flow.github.addPullRequest(spec);
    heads.set(pr, headSha);
    const event = before
      ? pullRequestEvent('synchronize', spec, { before })
      : pullRequestEvent('opened', spec);
    expect((await flow.post('pull_request', event)).status).toBeLessThan(300);
  };
  const failureOf = (pr: number, pattern: RegExp) =>
    waitUntil(async () => (pattern.test(flow.stickyBody(pr)) ? flow.stickyBody(pr) : undefined), {
      what: `#${pr}: the sticky comment to say ${pattern}`,
      ...WAIT,
    });
  const hostNamespace = (pr: number) => previewName(FULL_NAME, pr).namespace;
  /** The host's pods and claims of the preview's app (the virtual cluster's control plane runs beside, as processes). */
  const hostObjects = async (pr: number) => {
    const namespace = hostNamespace(pr);
    const named = (items: { metadata?: { annotations?: Record<string, string> } }[]) =>
      items.map((item) => item.metadata?.annotations?.['vcluster.loft.sh/object-name']).filter(Boolean);
    return {
      pods: named((await host.core.listNamespacedPod({ namespace })).items),
      claims: named((await host.core.listNamespacedPersistentVolumeClaim({ namespace })).items),
    };
  };
  const virtualEvents = async (pr: number, reason: string): Promise<CoreV1Event[]> => {
    const virtual = await flow.virtual(pr);
    return waitUntil(
      async () => {
        const events = (await virtual.core.listEventForAllNamespaces({ fieldSelector: `reason=${reason}` }))
          .items;
        return events.length > 0 ? events : undefined;
      },
      { what: `#${pr}: a ${reason} event in the virtual cluster`, ...WAIT },
    );
  };

  const urlOf = (pr: number) =>
    waitUntil(async () => /\*\*Preview:\*\* (https?:\/\/\S+)/.exec(flow.stickyBody(pr))?.[1], {
      what: `#${pr}: the preview URL`,
      ...WAIT,
    });
  const config = () => readFile(join(EXAMPLE_HELLO, '.github', 'vcluster-preview.yml'), 'utf8');
  /** The example's container securityContext (restricted's), as its Deployment has it. */
  const RESTRICTED_CONTAINER =
    '          securityContext:\n            allowPrivilegeEscalation: false\n            capabilities:\n              drop: [ALL]\n';

  it(
    'refuses a hostPath volume and a claim of a class the operator has not allowed; an honest preview beside them is ready',
    async () => {
      await open(1);
      await open(2, {
        'deploy/deployment.yaml': await deployment(
          withVolume('        - name: host-root\n          hostPath:\n            path: /\n'),
        ),
        'deploy/claim.yaml': [
          'apiVersion: v1',
          'kind: PersistentVolumeClaim',
          'metadata:',
          '  name: data',
          'spec:',
          '  storageClassName: host-local',
          '  accessModes: [ReadWriteOnce]',
          '  resources:',
          '    requests:',
          '      storage: 1Gi',
          '',
        ].join('\n'),
      });

      const refused = await failureOf(2, /VolumeTypeRefused/);
      expect(refused).toContain(
        'volume "host-root" has type hostPath, which previews may not use; use one of configMap, secret, emptyDir',
      );
      const [podEvent] = await virtualEvents(2, 'VolumeTypeRefused');
      expect(podEvent?.involvedObject.kind).toBe('Pod');
      expect(podEvent?.type).toBe('Warning');
      expect(podEvent?.message).toMatch(/^not synced to the host: volume "host-root" has type hostPath/);
      const [claimEvent] = await virtualEvents(2, 'StorageClassRefused');
      expect(claimEvent?.involvedObject).toMatchObject({ kind: 'PersistentVolumeClaim', name: 'data' });
      expect(claimEvent?.message).toContain(
        'storage class "host-local" is not allowed on this host; use one of "standard" or leave storageClassName unset',
      );
      expect(await hostObjects(2)).toEqual({ pods: [], claims: [] });

      // The honest preview beside it: ready, its pods on the host.
      expect(await urlOf(1)).toContain('pr-1-shop-eve');
      expect((await hostObjects(1)).pods).toHaveLength(2);
    },
    LONG,
  );

  it(
    'holds pods to restricted by default: a privileged container is refused; a repository that lowers it to baseline runs root pods until a push drops it, never privileged ones',
    async () => {
      await open(3, {
        'deploy/deployment.yaml': await deployment((yaml) =>
          yaml.replace('allowPrivilegeEscalation: false', 'privileged: true'),
        ),
      });
      await open(4, {
        '.github/vcluster-preview.yml': `${await config()}podSecurity: baseline\n`,
        'deploy/deployment.yaml': await deployment((yaml) => yaml.replace(RESTRICTED_CONTAINER, '')),
      });
      await open(5, { '.github/vcluster-preview.yml': `${await config()}podSecurity: privileged\n` });

      const refused = await failureOf(3, /PodSecurityViolation/);
      expect(refused).toContain('violates PodSecurity "restricted:latest"');
      expect(refused).toContain(
        'privileged (container "nginx" must not set securityContext.privileged=true)',
      );
      const [event] = await virtualEvents(3, 'PodSecurityViolation');
      expect(event?.involvedObject.kind).toBe('Pod');
      expect(event?.message).toContain('privileged (container "nginx"');
      expect((await hostObjects(3)).pods).toEqual([]);

      // Lowered to baseline by its config: a pod without restricted's settings is ready on the host.
      expect(await urlOf(4)).toContain('pr-4-shop-eve');
      expect((await hostObjects(4)).pods).toHaveLength(1);
      // A push that drops podSecurity: its new pods are held to restricted again.
      await open(4, {
        'deploy/deployment.yaml': await deployment((yaml) =>
          yaml
            .replace(RESTRICTED_CONTAINER, '')
            .replace(
              '      labels:\n        app: hello\n    spec:',
              '      labels:\n        app: hello\n        push: "2"\n    spec:',
            ),
        ),
      });
      const tightened = await failureOf(4, /PodSecurityViolation/);
      expect(tightened).toContain('violates PodSecurity "restricted:latest"');
      expect(tightened).toContain(
        'allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false)',
      );

      // Privileged is never a repository's choice: refused with the config line, nothing made.
      const bad = await failureOf(5, /podSecurity: expected one of baseline, restricted/);
      expect(bad).toMatch(/\.github\/vcluster-preview\.yml:\d+: podSecurity/);
      expect(await isGone(() => host.core.readNamespace({ name: hostNamespace(5) }))).toBe(true);
    },
    LONG,
  );
});
