import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planDeploy } from './hooks.ts';
import { SOURCE_ANNOTATION } from './objects.ts';
import { ManifestError } from './render.ts';
import { withSeedHook } from './seed-job.ts';

const SEED = 'k8s/seed.yaml';
const object = (
  kind: string,
  name: string,
  file: string,
  annotations: Record<string, string> = {},
): KubernetesObject => ({
  apiVersion: kind === 'Job' ? 'batch/v1' : kind === 'Deployment' ? 'apps/v1' : 'v1',
  kind,
  metadata: { name, namespace: 'default', annotations: { [SOURCE_ANNOTATION]: file, ...annotations } },
});
const web = object('Deployment', 'web', 'k8s/web.yaml');

describe('withSeedHook', () => {
  it('makes the seed file’s Job a post-install hook: run on the install, not on an upgrade', () => {
    const objects = withSeedHook([web, object('Job', 'seed', SEED, { 'helm.sh/hook-weight': '2' })], SEED);
    expect(objects[1]?.metadata?.annotations).toMatchObject({
      'helm.sh/hook': 'post-install',
      'helm.sh/hook-weight': '2',
    });
    const install = planDeploy(objects, true);
    expect(install.app).toEqual([web]);
    expect(install.post.flat().map((hook) => hook.object.metadata?.name)).toEqual(['seed']);
    const upgrade = planDeploy(objects, false);
    expect(upgrade.app).toEqual([web]);
    expect(upgrade.post).toEqual([]);
  });

  it('takes a Job already marked post-install as it is', () => {
    const seed = object('Job', 'seed', SEED, { 'helm.sh/hook': 'post-install' });
    expect(withSeedHook([seed], SEED)[0]?.metadata?.annotations?.['helm.sh/hook']).toBe('post-install');
  });

  it.each([
    ['two Jobs', [object('Job', 'a', SEED), object('Job', 'b', SEED)], 'found Job default/a, Job default/b'],
    ['a Deployment', [object('Deployment', 'x', SEED)], 'found Deployment default/x'],
    ['nothing', [web], 'found nothing'],
  ])('refuses a seed file with %s, naming it', (_name, objects, found) => {
    const run = () => withSeedHook(objects, SEED);
    expect(run).toThrow(ManifestError);
    expect(run).toThrow(
      `k8s/seed.yaml: seed.job must hold exactly one batch/v1 Job, ${found} (put the seed Job alone in its file)`,
    );
  });

  it('refuses a seed Job marked as another hook, which would silently run at another time', () => {
    const run = () => withSeedHook([object('Job', 'seed', SEED, { 'helm.sh/hook': 'pre-upgrade' })], SEED);
    expect(run).toThrow(
      /Job default\/seed: the seed Job runs once after the first deploy \(helm\.sh\/hook: post-install\)/,
    );
  });
});
