import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planDeploy } from './hooks.ts';

const job = (name: string, annotations: Record<string, string> = {}): KubernetesObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: {
    name,
    namespace: 'default',
    annotations: { 'vcluster-preview.dev/source': 'deploy/jobs.yaml', ...annotations },
  },
});
const deployment: KubernetesObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } };
const hook = (name: string, events: string, weight?: string) =>
  job(name, { 'helm.sh/hook': events, ...(weight !== undefined ? { 'helm.sh/hook-weight': weight } : {}) });

const names = (groups: { object: KubernetesObject }[][]) =>
  groups.map((group) => group.map((h) => h.object.metadata?.name).join('+'));

describe('planDeploy', () => {
  it.each([
    {
      name: 'no hooks: everything is the app',
      objects: [deployment, job('plain')],
      install: true,
      pre: [],
      app: ['web', 'plain'],
      post: [],
    },
    {
      name: 'the first deploy runs install hooks, not upgrade ones',
      objects: [
        deployment,
        hook('migrate', 'pre-install,pre-upgrade'),
        hook('only-up', 'pre-upgrade'),
        hook('seed', 'post-install'),
      ],
      install: true,
      pre: ['migrate'],
      app: ['web'],
      post: ['seed'],
    },
    {
      name: 'a later deploy runs upgrade hooks',
      objects: [
        deployment,
        hook('migrate', 'pre-install, pre-upgrade'),
        hook('only-up', 'pre-upgrade'),
        hook('seed', 'post-install'),
      ],
      install: false,
      pre: ['migrate+only-up'],
      app: ['web'],
      post: [],
    },
    {
      name: 'weights order the groups; one weight runs together, by kind then name',
      objects: [
        hook('b', 'pre-install', '5'),
        hook('a', 'pre-install', '5'),
        hook('first', 'pre-install', '-1'),
        hook('zero', 'pre-install'),
      ],
      install: true,
      pre: ['first', 'zero', 'a+b'],
      app: [],
      post: [],
    },
    {
      name: 'delete, rollback and test hooks are not deployed at all',
      objects: [deployment, hook('t', 'test'), hook('d', 'pre-delete'), hook('r', 'post-rollback')],
      install: true,
      pre: [],
      app: ['web'],
      post: [],
    },
  ])('$name', ({ objects, install, pre, app, post }) => {
    const plan = planDeploy(objects, install);
    expect(names(plan.pre)).toEqual(pre);
    expect(plan.app.map((object) => object.metadata?.name)).toEqual(app);
    expect(names(plan.post)).toEqual(post);
  });

  it('reads the delete policy, Helm’s before-hook-creation by default', () => {
    const plan = planDeploy(
      [
        hook('a', 'pre-install'),
        job('b', {
          'helm.sh/hook': 'pre-install',
          'helm.sh/hook-delete-policy': 'hook-succeeded,hook-failed',
        }),
      ],
      true,
    );
    expect(plan.pre[0]?.map((h) => h.deletePolicies)).toEqual([
      ['before-hook-creation'],
      ['hook-succeeded', 'hook-failed'],
    ]);
  });

  it.each<{ annotations: Record<string, string>; message: string }>([
    {
      annotations: { 'helm.sh/hook': 'pre-instal' },
      message:
        'deploy/jobs.yaml: Job default/bad: helm.sh/hook "pre-instal" is not a list of hook events (use pre-install, post-install, pre-upgrade, post-upgrade, pre-delete, post-delete, pre-rollback, post-rollback, test)',
    },
    {
      annotations: { 'helm.sh/hook': 'pre-install', 'helm.sh/hook-weight': 'high' },
      message: 'deploy/jobs.yaml: Job default/bad: helm.sh/hook-weight "high" is not a whole number',
    },
    {
      annotations: { 'helm.sh/hook': 'pre-install', 'helm.sh/hook-delete-policy': 'always' },
      message:
        'deploy/jobs.yaml: Job default/bad: helm.sh/hook-delete-policy "always" is not one of before-hook-creation, hook-succeeded, hook-failed',
    },
  ])('refuses a hook that would silently not run as meant: $message', ({ annotations, message }) => {
    expect(() => planDeploy([job('bad', annotations)], true)).toThrow(
      expect.objectContaining({ name: 'ManifestError', message }),
    );
  });
});
