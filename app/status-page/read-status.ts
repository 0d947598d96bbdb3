import type { Job, Queue } from 'bullmq';
import { summarizeSyncerLog, type VirtualClusterInfo, type VirtualClusterRef } from '../../preview/index.ts';
import type { JobState } from '../api/preview-status.ts';
import { type ClusterEntry, type JobEntry, type PreviewRow, previewRows } from './preview-rows.ts';

/**
 * What the status page shows, read where it lives: the previews from the host cluster (the source
 * of truth) and the work from the queue. A part that cannot be read is said on the page, with why,
 * rather than failing the whole page.
 */

/** What the page reads of the host cluster (app/api/host-lookup.ts `lazyPreviewHosts`). */
export interface StatusPageHosts {
  list(): Promise<VirtualClusterInfo[]>;
  currentUrl(namespace: string): Promise<string | undefined>;
  syncerLog(ref: VirtualClusterRef, tailLines: number): Promise<string[]>;
}

export interface ReadStatusPageDeps {
  queue: Pick<Queue, 'getJobCounts' | 'getJobs'>;
  /** Whether Redis answers now: BullMQ's client would otherwise hold a command until it reconnects. */
  ping(): Promise<void>;
  /** Without it (a web role with no host cluster) the page shows the queue alone. */
  hosts?: StatusPageHosts;
}

export const COUNTED_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueCounts = Record<(typeof COUNTED_STATES)[number], number>;

export interface StatusPageData {
  previews: PreviewRow[];
  counts?: QueueCounts;
  /** What could not be read, for the page to say. */
  problems: string[];
}

export interface PreviewPageData extends StatusPageData {
  preview?: PreviewRow;
  /** The syncer's last lines, made readable (summarizeSyncerLog). */
  syncerLines: string[];
}

/** The states whose newest jobs are read, each list newest first. */
const JOB_STATES = [
  'active',
  'waiting',
  'prioritized',
  'delayed',
  'failed',
  'completed',
] as const satisfies readonly JobState[];
/** Jobs read per state: enough for the newest of each preview without reading every kept job. */
const JOBS_PER_STATE = 200;
const SYNCER_LINES = 20;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const entryOf = (job: Job, state: JobState): JobEntry => ({
  id: String(job.id),
  state,
  data: job.data,
  progress: job.progress,
  returnValue: job.returnvalue,
  ...(job.failedReason ? { failedReason: job.failedReason } : {}),
  timestamp: job.timestamp,
  ...(job.processedOn ? { processedOn: job.processedOn } : {}),
  ...(job.finishedOn ? { finishedOn: job.finishedOn } : {}),
});

async function readQueue(deps: ReadStatusPageDeps, problems: string[]) {
  try {
    await deps.ping();
    const [counts, ...lists] = await Promise.all([
      deps.queue.getJobCounts(...COUNTED_STATES),
      ...JOB_STATES.map((state) => deps.queue.getJobs([state], 0, JOBS_PER_STATE - 1)),
    ]);
    const jobs = lists.flatMap((list, index) =>
      list.filter(Boolean).map((job) => entryOf(job, JOB_STATES[index]!)),
    );
    return { counts: counts as QueueCounts, jobs };
  } catch (error) {
    problems.push(`the queue (Redis) cannot be read: ${messageOf(error)}`);
    return { jobs: [] };
  }
}

async function readClusters(deps: ReadStatusPageDeps, problems: string[]): Promise<ClusterEntry[]> {
  if (!deps.hosts) {
    problems.push(
      'no host cluster is configured for this process (KUBECONFIG): previews are shown from the queue alone',
    );
    return [];
  }
  const hosts = deps.hosts;
  try {
    const infos = await hosts.list();
    return await Promise.all(
      infos.map(async (info) => {
        const url = await hosts.currentUrl(info.namespace).catch(() => undefined);
        return { info, ...(url ? { url } : {}) };
      }),
    );
  } catch (error) {
    problems.push(`the host cluster cannot be read: ${messageOf(error)}`);
    return [];
  }
}

/**
 * Every preview and the queue's counts; with `key`, also that preview and its syncer's last lines.
 */
export async function readStatusPage(deps: ReadStatusPageDeps): Promise<StatusPageData>;
export async function readStatusPage(deps: ReadStatusPageDeps, key: string): Promise<PreviewPageData>;
export async function readStatusPage(
  deps: ReadStatusPageDeps,
  key?: string,
): Promise<StatusPageData | PreviewPageData> {
  const problems: string[] = [];
  const [queue, clusters] = await Promise.all([readQueue(deps, problems), readClusters(deps, problems)]);
  const previews = previewRows(clusters, queue.jobs);
  const data = { previews, ...(queue.counts ? { counts: queue.counts } : {}), problems };
  if (key === undefined) return data;
  const preview = previews.find((candidate) => candidate.key === key);
  let syncerLines: string[] = [];
  if (preview?.cluster && deps.hosts) {
    try {
      syncerLines = summarizeSyncerLog(await deps.hosts.syncerLog(preview.cluster, 400), SYNCER_LINES);
    } catch (error) {
      problems.push(`the syncer's log cannot be read: ${messageOf(error)}`);
    }
  }
  return { ...data, ...(preview ? { preview } : {}), syncerLines };
}
