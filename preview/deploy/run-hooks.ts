import { applyObject } from '../../kube/apply.ts';
import type { KubeClients } from '../../kube/client.ts';
import type { Hook, HookDeletePolicy } from './hooks.ts';
import { describeRef, FIELD_MANAGER, refOf } from './objects.ts';
import { deleteAndWait } from './replace-object.ts';
import { waitForRollout } from './rollout.ts';

export interface RunHooksOptions {
  /** How long all the groups may take together. */
  timeoutMs: number;
  report: (message: string) => void;
}

/**
 * Runs hook groups in order, as Helm does: each group's objects replace their last run
 * (`before-hook-creation`), are applied together and awaited (Jobs until they complete); a failed
 * Job stops the deploy with its conditions, pods and log tail (the RolloutError of any workload).
 */
export async function runHooks(
  virtual: KubeClients,
  groups: Hook[][],
  options: RunHooksOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (const group of groups) {
    const names = group.map((hook) => describeRef(refOf(hook.object))).join(', ');
    const event = group[0]?.event ?? 'hook';
    options.report(`running ${event} hook${group.length > 1 ? 's' : ''} ${names}`);
    await deleteWhere(virtual, group, 'before-hook-creation');
    for (const hook of group) await applyObject(virtual, hook.object, FIELD_MANAGER);
    const objects = group.map((hook) => hook.object);
    try {
      await waitForRollout(virtual, objects, {
        timeoutMs: Math.max(1000, deadline - Date.now()),
        report: options.report,
        what: `${event} hook`,
      });
    } catch (error) {
      await deleteWhere(virtual, group, 'hook-failed');
      throw error;
    }
    await deleteWhere(virtual, group, 'hook-succeeded');
  }
}

/** Deletes the hooks of `group` whose delete policy names `policy`, each waited until gone. */
const deleteWhere = (virtual: KubeClients, group: Hook[], policy: HookDeletePolicy) =>
  Promise.all(
    group
      .filter((hook) => hook.deletePolicies.includes(policy))
      .map((hook) => deleteAndWait(virtual, hook.object)),
  );
