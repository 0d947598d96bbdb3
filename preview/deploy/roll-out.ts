import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeClients } from '../../kube/client.ts';
import { type DeployResult, deployApp } from './apply.ts';
import { waitForRollout } from './rollout.ts';

export interface RollOutOptions {
  /** The commit (or working-tree version) the objects are stamped with. */
  commit: string;
  timeoutMs: number;
  report?: (message: string) => void;
}

/**
 * The Deploy step of a preview: server-side apply of the app's objects into the virtual cluster
 * (pruning what the last deploy, read from its inventory, made and this one does not), then waiting for their rollout.
 */
export async function rollOutApp(
  virtual: KubeClients,
  objects: KubernetesObject[],
  options: RollOutOptions,
): Promise<DeployResult> {
  const report = options.report ?? (() => {});
  const result = await deployApp({ virtual, objects, commit: options.commit, report });
  await waitForRollout(virtual, objects, { timeoutMs: options.timeoutMs, report });
  return result;
}
