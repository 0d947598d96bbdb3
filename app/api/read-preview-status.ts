import type { CiKubeconfig, CiKubeconfigOptions } from '../../preview/index.ts';
import { annotations, type VirtualClusterInfo, type VirtualClusterRef } from '../../preview/index.ts';
import { jobIdFor, previewName } from '../desired-state.ts';
import type { PreviewJob } from '../queue/preview-job.ts';
import type { PreviewQueue } from '../queue/preview-queue.ts';
import { ApiError } from './api-error.ts';
import {
  type ClusterFacts,
  type JobFacts,
  type JobState,
  type PreviewStatus,
  previewStatus,
} from './preview-status.ts';

/**
 * Reads what the status of a preview is made of: the pull request's job in the queue (its progress
 * holds the step checklist) and the preview's host namespace, through the provider and host access.
 */

/**
 * What the API reads of the host cluster: the provider's `get`, host access's `currentUrl`, and a
 * preview-scoped kubeconfig of a virtual cluster (preview/ci-kubeconfig.ts).
 */
export interface PreviewHosts {
  get(ref: VirtualClusterRef): Promise<VirtualClusterInfo | undefined>;
  currentUrl(namespace: string): Promise<string | undefined>;
  ciKubeconfig(ref: VirtualClusterRef, options: CiKubeconfigOptions): Promise<CiKubeconfig>;
}

export interface ReadStatusDeps {
  queue: PreviewQueue;
  /** Without it (a web role with no KUBECONFIG) the status comes from the queue alone. */
  hosts?: PreviewHosts;
}

export interface ReadStatusInput {
  repo: string;
  pr: number;
  /** The job `POST` answered with (`?job=` of its status URL). */
  jobId?: string;
}

async function jobFacts(queue: PreviewQueue, input: ReadStatusInput, jobId: string): Promise<JobFacts> {
  // Job ids of a pull request start with its de-duplication id; any other is not this PR's to read.
  if (!jobId.startsWith(`${jobIdFor(input.repo, input.pr)}-`)) {
    throw new ApiError(
      400,
      `job ${jobId} is not a job of ${input.repo}#${input.pr}`,
      'use the statusUrl that POST /api/v1/previews answered with',
    );
  }
  const job = await queue.queue.getJob(jobId);
  if (!job) return { id: jobId, state: 'missing' };
  const state = await job.getState();
  const data = job.data as PreviewJob;
  return {
    id: jobId,
    state: state === 'unknown' ? 'missing' : (state as JobState),
    desired: data.desired,
    progress: job.progress,
    returnValue: job.returnvalue,
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
  };
}

async function clusterFacts(
  hosts: PreviewHosts,
  repo: string,
  pr: number,
): Promise<ClusterFacts | undefined> {
  const info = await hosts.get(previewName(repo, pr));
  if (!info) return undefined;
  const sha = info.annotations[annotations.commit];
  const url = await hosts.currentUrl(info.namespace);
  return {
    namespace: info.namespace,
    state: info.state,
    ...(sha ? { sha } : {}),
    ...(url ? { url } : {}),
  };
}

export async function readPreviewStatus(
  deps: ReadStatusDeps,
  input: ReadStatusInput,
): Promise<PreviewStatus> {
  const { queue } = deps;
  const place = await queue.place(input.repo, input.pr);
  const jobId = input.jobId ?? (place.state === 'none' ? undefined : place.jobId);
  const [job, cluster] = await Promise.all([
    jobId ? jobFacts(queue, input, jobId) : undefined,
    deps.hosts ? clusterFacts(deps.hosts, input.repo, input.pr) : undefined,
  ]);
  return previewStatus({ ...(job ? { job } : {}), place, ...(cluster ? { cluster } : {}) });
}
