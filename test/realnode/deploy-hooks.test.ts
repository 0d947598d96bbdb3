import type { KubernetesObject, V1Deployment, V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RolloutError, rollOutApp } from '../../preview/deploy/index.ts';
import { startVirtualCluster, type VirtualClusterUnderTest } from '../support/virtual-cluster.ts';

/**
 * Hooks and Jobs as a repository's deploy uses them (a migration before the app, a Job whose spec
 * changes between pushes, a migration that fails), on the real node: the Jobs' pods really run and
 * complete, so their order, their logs and their failures are the kubelet's.
 */

const restricted = {
  runAsNonRoot: true,
  runAsUser: 65534,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const job = (name: string, script: string, annotations: Record<string, string> = {}): KubernetesObject =>
  ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default', labels: { 'vcluster-preview.dev/managed': 'true' }, annotations },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'run', image: 'busybox', command: ['sh', '-c', script], securityContext: restricted },
          ],
        },
      },
    },
  }) as V1Job as KubernetesObject;

const app = (version: string): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { 'vcluster-preview.dev/managed': 'true' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { version } },
        spec: {
          containers: [
            { name: 'web', image: 'busybox', command: ['sleep', '3600'], securityContext: restricted },
          ],
        },
      },
    },
  }) as V1Deployment as KubernetesObject;

const migrate = (script: string) =>
  job('migrate', script, { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-5' });

describe('deploy hooks and Jobs on the real node', () => {
  let vc: VirtualClusterUnderTest;
  const messages: string[] = [];
  const roll = (objects: KubernetesObject[], commit: string) =>
    rollOutApp(vc.virtual, objects, {
      commit,
      timeoutMs: 90_000,
      report: (message) => messages.push(message),
    });
  const readJob = async (name: string) =>
    (await vc.virtual.objects.read({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: 'default' },
    })) as V1Job;

  beforeAll(async () => {
    vc = await startVirtualCluster({ hostKubeconfig: inject('realHostKubeconfig') });
  });
  afterAll(async () => {
    await vc?.stop();
  });

  it('runs the migration before the app and the post-install Job after it rolled out', async () => {
    await roll(
      [
        app('1'),
        migrate('echo migrating to 1'),
        job('seed', 'echo seeded', { 'helm.sh/hook': 'post-install' }),
        job('report', 'echo version 1'),
      ],
      'c1',
    );
    const migration = await readJob('migrate');
    const seed = await readJob('seed');
    const deployment = await vc.virtual.apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    expect(migration.status?.succeeded).toBe(1);
    expect(seed.status?.succeeded).toBe(1);
    // Helm's order: the app is made only once the migration finished, the seed once the app is up.
    const time = (value: Date | string | undefined) => new Date(value ?? 0).getTime();
    expect(time(deployment.metadata?.creationTimestamp)).toBeGreaterThanOrEqual(
      Math.floor(time(migration.status?.completionTime) / 1000) * 1000,
    );
    expect(time(seed.metadata?.creationTimestamp)).toBeGreaterThanOrEqual(
      Math.floor(
        time(deployment.status?.conditions?.find((c) => c.type === 'Available')?.lastTransitionTime) / 1000,
      ) * 1000,
    );
    expect(messages).toContain('running pre-install hook Job default/migrate');
  });

  it('on a push, runs the upgrade migration again, not the install-only seed, and replaces a changed Job', async () => {
    const firstSeed = (await readJob('seed')).metadata?.uid;
    const firstMigration = (await readJob('migrate')).metadata?.uid;
    await roll(
      [
        app('2'),
        migrate('echo migrating to 2'),
        job('seed', 'echo seeded', { 'helm.sh/hook': 'post-install' }),
        job('report', 'echo version 2'),
      ],
      'c2',
    );
    expect((await readJob('migrate')).metadata?.uid).not.toBe(firstMigration);
    expect((await readJob('migrate')).status?.succeeded).toBe(1);
    // post-install ran once; the seed Job of the first deploy is still the one there is.
    expect((await readJob('seed')).metadata?.uid).toBe(firstSeed);
    // A Job's pod template cannot be updated: it was made again with the new command, and ran.
    const report = await readJob('report');
    expect(report.spec?.template.spec?.containers[0]?.command).toEqual(['sh', '-c', 'echo version 2']);
    expect(report.status?.succeeded).toBe(1);
    expect(messages).toContain(
      "replacing Job default/report: its spec changed, and a Job's cannot be updated",
    );
  });

  it('a failed migration fails the deploy with its log lines, and the app is left as it was', async () => {
    const error = await roll(
      [
        app('3'),
        migrate('echo "ERROR: column users.email does not exist" >&2; exit 3'),
        job('report', 'echo version 2'),
      ],
      'c3',
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RolloutError);
    const message = (error as Error).message;
    expect(message.split('\n')[0]).toBe('pre-upgrade hook failed: Job default/migrate');
    // Its pod and exit code (this harness's syncer serves no kubelet API, so no log lines here).
    expect(message).toMatch(/container run exited 3/);
    const deployment = await vc.virtual.apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    expect(deployment.spec?.template.metadata?.annotations?.version).toBe('2');
  });
});
