import type { KubernetesObject } from '@kubernetes/client-node';
import { describeRef, refOf, SOURCE_ANNOTATION } from './objects.ts';
import { ManifestError, type ManifestProblem } from './render.ts';

/**
 * Which objects run before the app and which after (pure): Helm hooks (`helm.sh/hook:
 * pre-install|pre-upgrade`, `post-install|post-upgrade`) and objects of `manifests:` or `kustomize:`
 * marked `vcluster-preview.dev/phase: pre-deploy|post-deploy`, each phase in `helm.sh/hook-weight`
 * order, as Helm runs them. Helm's other hooks (test, delete, rollback) are not deployed: nothing of
 * a preview is rolled back or tested by Helm.
 */

/** Our own mark of an object that runs before (`pre-deploy`) or after (`post-deploy`) the app. */
export const PHASE_ANNOTATION = 'vcluster-preview.dev/phase';
export const HELM_HOOK_ANNOTATION = 'helm.sh/hook';
export const HELM_WEIGHT_ANNOTATION = 'helm.sh/hook-weight';
export const HELM_DELETE_POLICY_ANNOTATION = 'helm.sh/hook-delete-policy';

export type HookPhase = 'pre-deploy' | 'post-deploy';

export interface DeployPlan {
  /** Run one at a time, in order, before the app is applied. */
  pre: KubernetesObject[];
  app: KubernetesObject[];
  /** Run one at a time, in order, once the app has rolled out. */
  post: KubernetesObject[];
  /** Helm hooks of other events, left out. */
  skipped: KubernetesObject[];
}

const HELM_PHASES: Record<string, HookPhase | 'skip'> = {
  'pre-install': 'pre-deploy',
  'pre-upgrade': 'pre-deploy',
  'post-install': 'post-deploy',
  'post-upgrade': 'post-deploy',
  'pre-delete': 'skip',
  'post-delete': 'skip',
  'pre-rollback': 'skip',
  'post-rollback': 'skip',
  test: 'skip',
  'test-success': 'skip',
};

const annotationsOf = (object: KubernetesObject) => object.metadata?.annotations ?? {};
const where = (object: KubernetesObject) => annotationsOf(object)[SOURCE_ANNOTATION] ?? '(manifests)';

/** The phase of an object (undefined: part of the app), or a problem with its annotations. */
function phaseOf(object: KubernetesObject): HookPhase | 'skip' | undefined | ManifestProblem {
  const annotations = annotationsOf(object);
  const ours = annotations[PHASE_ANNOTATION];
  if (ours !== undefined) {
    if (ours === 'pre-deploy' || ours === 'post-deploy') return ours;
    return {
      file: where(object),
      message: `${describeRef(refOf(object))}: ${PHASE_ANNOTATION} is "${ours}" (use pre-deploy or post-deploy)`,
    };
  }
  const helm = annotations[HELM_HOOK_ANNOTATION];
  if (helm === undefined) return undefined;
  const events = helm
    .split(',')
    .map((event) => event.trim())
    .filter(Boolean);
  const unknown = events.filter((event) => HELM_PHASES[event] === undefined);
  if (unknown.length > 0 || events.length === 0)
    return {
      file: where(object),
      message: `${describeRef(refOf(object))}: ${HELM_HOOK_ANNOTATION} "${helm}" names no hook Helm knows (pre-install, pre-upgrade, post-install, post-upgrade, …)`,
    };
  const phases = events.map((event) => HELM_PHASES[event]);
  if (phases.includes('pre-deploy')) return 'pre-deploy';
  if (phases.includes('post-deploy')) return 'post-deploy';
  return 'skip';
}

/** `helm.sh/hook-weight` as a number (0 when absent), or a problem. */
function weightOf(object: KubernetesObject): number | ManifestProblem {
  const weight = annotationsOf(object)[HELM_WEIGHT_ANNOTATION];
  if (weight === undefined || weight.trim() === '') return 0;
  if (!/^\s*-?\d+\s*$/.test(weight))
    return {
      file: where(object),
      message: `${describeRef(refOf(object))}: ${HELM_WEIGHT_ANNOTATION} is "${weight}" (use a whole number, like "-5" or "10")`,
    };
  return Number(weight);
}

const isProblem = (value: unknown): value is ManifestProblem =>
  typeof value === 'object' && value !== null && 'message' in value;

/**
 * Splits rendered objects into hooks before the app, the app, and hooks after it. Within a phase:
 * lower weights first; at one weight, what a Job uses (a ConfigMap, a Secret) before the Jobs;
 * then by name. Throws a ManifestError naming every object whose phase or weight is not one.
 */
export function planDeploy(objects: readonly KubernetesObject[]): DeployPlan {
  const plan: DeployPlan = { pre: [], app: [], post: [], skipped: [] };
  const problems: ManifestProblem[] = [];
  const weights = new Map<KubernetesObject, number>();
  for (const object of objects) {
    const phase = phaseOf(object);
    if (isProblem(phase)) {
      problems.push(phase);
      continue;
    }
    if (phase === undefined) {
      plan.app.push(object);
      continue;
    }
    if (phase === 'skip') {
      plan.skipped.push(object);
      continue;
    }
    const weight = weightOf(object);
    if (isProblem(weight)) {
      problems.push(weight);
      continue;
    }
    weights.set(object, weight);
    (phase === 'pre-deploy' ? plan.pre : plan.post).push(object);
  }
  if (problems.length > 0) throw new ManifestError(problems);
  const order = (a: KubernetesObject, b: KubernetesObject) =>
    (weights.get(a) ?? 0) - (weights.get(b) ?? 0) ||
    Number(a.kind === 'Job') - Number(b.kind === 'Job') ||
    (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  plan.pre.sort(order);
  plan.post.sort(order);
  return plan;
}

/**
 * Whether a hook goes once it has succeeded (`helm.sh/hook-delete-policy: hook-succeeded`), so that
 * it runs again on every deploy. A failed one is kept whatever the policy says: its pods and logs
 * are what the author needs, and the next deploy replaces it.
 */
export function deletedOnSuccess(object: KubernetesObject): boolean {
  return (annotationsOf(object)[HELM_DELETE_POLICY_ANNOTATION] ?? '')
    .split(',')
    .map((item) => item.trim())
    .includes('hook-succeeded');
}
