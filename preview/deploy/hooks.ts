import type { KubernetesObject } from '@kubernetes/client-node';
import { describeRef, refOf, SOURCE_ANNOTATION } from './objects.ts';
import { ManifestError } from './render.ts';

/**
 * Helm's hooks, for every way a preview is rendered (a chart's `helm template`, plain manifests,
 * kustomize): an object annotated `helm.sh/hook` is not part of the app but runs around its deploy,
 * as `helm upgrade --install` runs it. A preview's first deploy is an install, later ones upgrades;
 * `pre-*` hooks run before the app is applied, `post-*` after it rolled out, each weight group
 * (`helm.sh/hook-weight`, ascending) after the one before has finished. Pure: what runs when.
 */

export const HOOK_ANNOTATION = 'helm.sh/hook';
export const HOOK_WEIGHT_ANNOTATION = 'helm.sh/hook-weight';
export const HOOK_DELETE_POLICY_ANNOTATION = 'helm.sh/hook-delete-policy';

const HOOK_EVENTS = [
  'pre-install',
  'post-install',
  'pre-upgrade',
  'post-upgrade',
  'pre-delete',
  'post-delete',
  'pre-rollback',
  'post-rollback',
  'test',
] as const;
type HookEvent = (typeof HOOK_EVENTS)[number];

const DELETE_POLICIES = ['before-hook-creation', 'hook-succeeded', 'hook-failed'] as const;
export type HookDeletePolicy = (typeof DELETE_POLICIES)[number];

export interface Hook {
  object: KubernetesObject;
  /** The event it runs for in this deploy: `pre-install`, `post-upgrade`, … */
  event: HookEvent;
  weight: number;
  /** Helm's default is `before-hook-creation`: the last run's object is replaced by the next. */
  deletePolicies: HookDeletePolicy[];
}

export interface DeployPlan {
  /** Hook groups to run before the app is applied, in order; the hooks of a group run together. */
  pre: Hook[][];
  /** The app itself. */
  app: KubernetesObject[];
  /** Hook groups to run once the app rolled out. */
  post: Hook[][];
}

const annotationOf = (object: KubernetesObject, key: string): string | undefined =>
  object.metadata?.annotations?.[key];

const listOf = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** A hook annotation that says nothing Helm knows is the author's mistake: it would silently not run. */
function readHook(object: KubernetesObject): Omit<Hook, 'event'> & { events: HookEvent[] } {
  const file = annotationOf(object, SOURCE_ANNOTATION) ?? 'the manifests';
  const bad = (message: string) =>
    new ManifestError([{ file, message: `${describeRef(refOf(object))}: ${message}` }]);
  const events = listOf(annotationOf(object, HOOK_ANNOTATION) ?? '');
  const unknown = events.filter((event) => !(HOOK_EVENTS as readonly string[]).includes(event));
  if (events.length === 0 || unknown.length > 0) {
    throw bad(
      `${HOOK_ANNOTATION} ${JSON.stringify(annotationOf(object, HOOK_ANNOTATION))} is not a list of hook events (use ${HOOK_EVENTS.join(', ')})`,
    );
  }
  const weightText = annotationOf(object, HOOK_WEIGHT_ANNOTATION)?.trim() ?? '0';
  if (!/^[-+]?\d{1,9}$/.test(weightText)) {
    throw bad(`${HOOK_WEIGHT_ANNOTATION} ${JSON.stringify(weightText)} is not a whole number`);
  }
  const policies = listOf(annotationOf(object, HOOK_DELETE_POLICY_ANNOTATION) ?? 'before-hook-creation');
  const badPolicy = policies.find((policy) => !(DELETE_POLICIES as readonly string[]).includes(policy));
  if (badPolicy !== undefined) {
    throw bad(
      `${HOOK_DELETE_POLICY_ANNOTATION} ${JSON.stringify(badPolicy)} is not one of ${DELETE_POLICIES.join(', ')}`,
    );
  }
  return {
    object,
    events: events as HookEvent[],
    weight: Number(weightText),
    deletePolicies: policies as HookDeletePolicy[],
  };
}

/** Helm's order within a phase: weight, then kind, then name. */
const byWeight = (a: Hook, b: Hook) =>
  a.weight - b.weight ||
  (a.object.kind ?? '').localeCompare(b.object.kind ?? '') ||
  (a.object.metadata?.name ?? '').localeCompare(b.object.metadata?.name ?? '');

const groupByWeight = (hooks: Hook[]): Hook[][] => {
  const groups: Hook[][] = [];
  for (const hook of [...hooks].sort(byWeight)) {
    const last = groups.at(-1);
    if (last && last[0]?.weight === hook.weight) last.push(hook);
    else groups.push([hook]);
  }
  return groups;
};

/**
 * Splits rendered objects into the hooks of this deploy and the app. `install` is a preview's first
 * deploy. Hooks of other events (delete, rollback, `helm test`) are not deployed at all.
 */
export function planDeploy(objects: readonly KubernetesObject[], install: boolean): DeployPlan {
  const app: KubernetesObject[] = [];
  const pre: Hook[] = [];
  const post: Hook[] = [];
  const [preEvent, postEvent] = install ? ['pre-install', 'post-install'] : ['pre-upgrade', 'post-upgrade'];
  for (const object of objects) {
    if (annotationOf(object, HOOK_ANNOTATION) === undefined) {
      app.push(object);
      continue;
    }
    const { events, ...hook } = readHook(object);
    if (events.includes(preEvent as HookEvent)) pre.push({ ...hook, event: preEvent as HookEvent });
    if (events.includes(postEvent as HookEvent)) post.push({ ...hook, event: postEvent as HookEvent });
  }
  return { pre: groupByWeight(pre), app, post: groupByWeight(post) };
}
