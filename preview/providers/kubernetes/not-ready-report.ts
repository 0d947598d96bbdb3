import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describeEvents, describePod, isPodReady } from '../../diagnose.ts';
import type { Workload } from './workload.ts';

/**
 * Why a release's control plane is not ready (pure): its pods that are not Ready (or that there is
 * none, and what the workload wants), and the last events of the release's objects, as the lines
 * under the provider's timeout error.
 */
export function notReadyReport(input: {
  name: string;
  pods: V1Pod[];
  events: CoreV1Event[];
  /** The control plane workload, read when there is no pod; undefined when there is none. */
  workload?: Workload;
}): string {
  const { name, pods } = input;
  const lines: string[] = [];
  if (pods.length === 0) {
    lines.push(
      input.workload
        ? `no control plane pod exists (${input.workload.kind} ${name} wants ${input.workload.replicas} replica(s))`
        : `no control plane pod exists and there is no StatefulSet or Deployment ${name}`,
    );
  }
  for (const pod of pods) if (!isPodReady(pod)) lines.push(`pod ${describePod(pod)}`);
  // The release's objects: its workload, its data PVC, its pods and whatever else the chart names `<name>-…`.
  const involved = new Set([name, `data-${name}-0`, ...pods.map((p) => p.metadata?.name ?? '')]);
  const relevant = input.events.filter(
    (e) => involved.has(e.involvedObject.name ?? '') || e.involvedObject.name?.startsWith(`${name}-`),
  );
  const described = describeEvents(relevant, 8);
  if (described.length > 0) lines.push(`events:\n    ${described.join('\n    ')}`);
  return lines.join('\n  ');
}
