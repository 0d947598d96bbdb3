import type { KubeClients } from '../../../kube/client.ts';
import { VirtualClusterError } from '../../provider.ts';
import { managedByLabel, pauseAnnotations } from './names.ts';
import { patchWorkload, readWorkload, type Workload } from './workload.ts';

/**
 * Pausing scales the control plane to zero as vcluster's CLI does (remembering its replicas in
 * annotations); resuming scales it back. The caller marks the namespace and waits.
 */

async function mustReadWorkload(host: KubeClients, name: string, namespace: string): Promise<Workload> {
  const workload = await readWorkload(host, name, namespace);
  if (!workload) {
    throw new VirtualClusterError(
      `virtual cluster ${name} has no control plane (no StatefulSet or Deployment ${name} in namespace ${namespace}); delete it and create it again`,
    );
  }
  return workload;
}

export async function pauseControlPlane(host: KubeClients, name: string, namespace: string): Promise<void> {
  const workload = await mustReadWorkload(host, name, namespace);
  const alreadyPaused = workload.annotations[pauseAnnotations.paused] === 'true';
  await patchWorkload(host, workload.kind, name, namespace, {
    metadata: alreadyPaused
      ? {}
      : {
          annotations: {
            [pauseAnnotations.paused]: 'true',
            [pauseAnnotations.replicas]: String(workload.replicas || 1),
          },
        },
    spec: { replicas: 0 },
  });
  // Workloads go with the control plane; services, PVCs and config stay for the resume.
  await host.core.deleteCollectionNamespacedPod({ namespace, labelSelector: `${managedByLabel}=${name}` });
}

export async function resumeControlPlane(host: KubeClients, name: string, namespace: string): Promise<void> {
  const workload = await mustReadWorkload(host, name, namespace);
  if (workload.annotations[pauseAnnotations.paused] === 'true' || workload.replicas === 0) {
    const replicas = Number(workload.annotations[pauseAnnotations.replicas]) || 1;
    await patchWorkload(host, workload.kind, name, namespace, {
      metadata: { annotations: { [pauseAnnotations.paused]: null, [pauseAnnotations.replicas]: null } },
      spec: { replicas },
    });
  }
}
