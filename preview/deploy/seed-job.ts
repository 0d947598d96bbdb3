import type { KubernetesObject } from '@kubernetes/client-node';
import { HOOK_ANNOTATION } from './hooks.ts';
import { describeRef, refOf, SOURCE_ANNOTATION } from './objects.ts';
import { ManifestError } from './render.ts';

/**
 * The config's `seed: { job: PATH }`: the Job in that file becomes a `post-install` hook, so the
 * deploy's hook runner runs it as Helm would, once after the first deploy rolled out (and again in
 * a fresh cluster after `/vcluster reset`), never on later pushes. Pure: rendered objects in, out.
 */

export const SEED_HOOK_EVENT = 'post-install';

/** `objects` with the one Job rendered from `path` (the seed file) annotated as a post-install hook. */
export function withSeedHook(objects: readonly KubernetesObject[], path: string): KubernetesObject[] {
  const fromSeed = objects.filter((object) => object.metadata?.annotations?.[SOURCE_ANNOTATION] === path);
  const [job] = fromSeed;
  if (fromSeed.length !== 1 || !job || job.kind !== 'Job' || job.apiVersion !== 'batch/v1') {
    const found = fromSeed.map((object) => describeRef(refOf(object))).join(', ') || 'nothing';
    throw new ManifestError([
      {
        file: path,
        message: `seed.job must hold exactly one batch/v1 Job, found ${found} (put the seed Job alone in its file)`,
      },
    ]);
  }
  const hook = job.metadata?.annotations?.[HOOK_ANNOTATION];
  if (hook !== undefined && hook.trim() !== SEED_HOOK_EVENT) {
    throw new ManifestError([
      {
        file: path,
        message: `${describeRef(refOf(job))}: the seed Job runs once after the first deploy (${HOOK_ANNOTATION}: ${SEED_HOOK_EVENT}), so its ${HOOK_ANNOTATION} ${JSON.stringify(hook)} would be ignored (remove it, or move the Job under manifests: as a hook of its own)`,
      },
    ]);
  }
  const seed: KubernetesObject = {
    ...job,
    metadata: {
      ...job.metadata,
      annotations: { ...job.metadata?.annotations, [HOOK_ANNOTATION]: SEED_HOOK_EVENT },
    },
  };
  return objects.map((object) => (object === job ? seed : object));
}
