import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from '../../../kube/client.ts';
import { isPodReady } from '../../diagnose.ts';
import { VirtualClusterError } from '../../provider.ts';
import { readPodsAndEvents } from '../../read-pods-and-events.ts';
import { controlPlaneSelector, kubeconfigSecretName } from './names.ts';
import { setState } from './namespace.ts';
import { notReadyReport } from './not-ready-report.ts';
import { readKubeconfigSecret } from './read-kubeconfig.ts';
import { controlPlanePods, readWorkload } from './workload.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why the control plane is not ready, as read now; reading must not hide the error it explains. */
async function diagnose(host: KubeClients, name: string, namespace: string, lastPods: V1Pod[]) {
  let pods = lastPods;
  let events: CoreV1Event[] = [];
  try {
    ({ pods, events } = await readPodsAndEvents(host, namespace, controlPlaneSelector(name)));
  } catch {
    // The pods of the last look and no events still say something.
  }
  const workload =
    pods.length === 0 ? await readWorkload(host, name, namespace).catch(() => undefined) : undefined;
  return notReadyReport({ name, pods, events, ...(workload ? { workload } : {}) });
}

/**
 * Waits for the control plane pod to be Ready and for the syncer's kubeconfig Secret; after
 * `timeoutMs` marks the virtual cluster failed and throws what is missing and why.
 */
export async function waitReady(
  host: KubeClients,
  name: string,
  namespace: string,
  options: { timeoutMs: number; report: (message: string) => void },
): Promise<void> {
  const { timeoutMs, report } = options;
  const deadline = Date.now() + timeoutMs;
  let podReady = false;
  let secretReady = false;
  let pods: V1Pod[] = [];
  let reportedPod = false;
  for (;;) {
    pods = await controlPlanePods(host, name, namespace);
    podReady = pods.some(isPodReady);
    secretReady = (await readKubeconfigSecret(host, name, namespace)) !== undefined;
    if (podReady && !reportedPod) {
      reportedPod = true;
      if (!secretReady) report(`control plane pod ready; waiting for the syncer to write Secret vc-${name}`);
    }
    if (podReady && secretReady) return;
    if (Date.now() >= deadline) break;
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
  const missing: string[] = [];
  if (!podReady) missing.push('its control plane pod is not Ready');
  if (!secretReady) {
    missing.push(
      `its syncer has not written the kubeconfig Secret ${kubeconfigSecretName(name)} (key "config") yet`,
    );
  }
  const details = await diagnose(host, name, namespace, pods);
  await setState(host, namespace, 'failed').catch(() => {});
  throw new VirtualClusterError(
    `virtual cluster ${name} in namespace ${namespace} is not ready after ${Math.round(timeoutMs / 1000)}s: ${missing.join(' and ')}.` +
      (details ? `\n  ${details}` : '') +
      `\nLook at the pod with: kubectl -n ${namespace} describe pod -l ${controlPlaneSelector(name)}; kubectl -n ${namespace} logs -l ${controlPlaneSelector(name)} -c syncer`,
  );
}
