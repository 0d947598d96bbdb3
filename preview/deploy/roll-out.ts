import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClients } from '../../kube/client.ts';
import { type DeployResult, deployApp, readInventory } from './apply.ts';
import { planDeploy } from './hooks.ts';
import { noteInstallState, readInstallState } from './install-state.ts';
import { waitForRollout } from './rollout.ts';
import { runHooks } from './run-hooks.ts';

export interface RollOutOptions {
  /** The commit (or working-tree version) the objects are stamped with. */
  commit: string;
  timeoutMs: number;
  report?: (message: string) => void;
}

/**
 * The Deploy step of a preview, as `helm upgrade --install --wait` runs a release: the `pre-*` hooks
 * (once namespaces and CRDs are in), server-side apply of the app's objects into the virtual cluster
 * (pruning what the last deploy, read from its inventory, made and this one does not), waiting for
 * their rollout, then the `post-*` hooks. Until a deploy has finished, post-install hooks included,
 * each deploy is an install: a retried first deploy runs the install hooks (the seed Job) again.
 */
export async function rollOutApp(
  virtual: KubeClients,
  objects: KubernetesObject[],
  options: RollOutOptions,
): Promise<DeployResult> {
  const report = options.report ?? (() => {});
  const deadline = Date.now() + options.timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const previous = await readInventory(virtual);
  const install = (await readInstallState(virtual, previous)) === 'pending';
  if (install) await noteInstallState(virtual, 'pending');
  const plan = planDeploy(objects, install);
  const result = await deployApp({
    virtual,
    objects: plan.app,
    previous,
    commit: options.commit,
    report,
    ...(plan.pre.length > 0
      ? { beforeWorkloads: () => runHooks(virtual, plan.pre, { timeoutMs: left(), report }) }
      : {}),
  });
  await waitForRollout(virtual, plan.app, { timeoutMs: left(), report });
  await runHooks(virtual, plan.post, { timeoutMs: left(), report });
  if (install) await noteInstallState(virtual, 'done');
  return result;
}
