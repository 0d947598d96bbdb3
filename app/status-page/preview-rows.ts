import { annotations, labels, type TreeRun, type VirtualClusterInfo } from '../../preview/index.ts';
import { type ApiPreviewState, type JobState, previewStatus } from '../api/preview-status.ts';
import { jobIdFor } from '../desired-state.ts';
import { readPreviewMetadata } from '../preview-metadata.ts';
import type { StickyStep } from '../sticky-comment.ts';

/**
 * The status page's rows, one per preview, from what exists: the previews' host namespaces and the
 * queue's recent jobs, grouped by preview key (a pull request's de-duplication id, or `tree-<name>`
 * for a working tree). Pure: a pull request's state is worked out by the API's own `previewStatus`,
 * so the page and `GET /api/v1/previews/…` never disagree. A working tree's preview has no job (the
 * CLI runs it): its namespace's last-run mark (preview/tree-preview.ts) says the rest.
 */

export type PreviewSubject =
  | { kind: 'pull-request'; repo: string; pr: number }
  | { kind: 'tree'; name: string; dir?: string };

/** One BullMQ job as the page reads it (`queue.getJobs`), with the state list it was found in. */
export interface JobEntry {
  id: string;
  state: JobState;
  data: unknown;
  progress?: unknown;
  returnValue?: unknown;
  failedReason?: string;
  /** Epoch ms: made, started, finished. */
  timestamp: number;
  processedOn?: number;
  finishedOn?: number;
}

/** A preview's host namespace as the provider lists it, with its current URL (its Ingress). */
export interface ClusterEntry {
  info: VirtualClusterInfo;
  url?: string;
}

export interface PreviewRow {
  /** Used in `/previews/<key>`. */
  key: string;
  subject: PreviewSubject;
  state: ApiPreviewState;
  /** Sleeping: the virtual cluster is paused (scaled down), woken by `/vcluster resume`. */
  paused: boolean;
  url?: string;
  sha?: string;
  namespace?: string;
  /** ISO times. */
  createdAt?: string;
  lastActivity?: string;
  steps?: StickyStep[];
  error?: string;
  hint?: string;
  /** The newest job of this preview. */
  jobId?: string;
  jobState?: JobState;
  /** The host namespace, for reading its syncer's log. */
  cluster?: Pick<VirtualClusterInfo, 'name' | 'namespace'>;
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

const treeKey = (name: string) => `tree-${name}`;

/** Which pull request a job is for, or undefined for one that says nothing (a skip, a malformed one). */
function jobSubject(data: unknown): PreviewSubject | undefined {
  const job = record(data);
  if (record(job.desired).kind === 'skip') return undefined;
  const repo = text(job.repo);
  const pr = job.pr;
  if (repo?.includes('/') && typeof pr === 'number' && Number.isInteger(pr) && pr > 0)
    return { kind: 'pull-request', repo, pr };
  return undefined;
}

function clusterSubject(info: VirtualClusterInfo): PreviewSubject | undefined {
  const treeName = info.labels[labels.tree];
  if (treeName) {
    const dir = info.annotations[annotations.treeDir];
    return { kind: 'tree', name: treeName, ...(dir ? { dir } : {}) };
  }
  const metadata = readPreviewMetadata(info);
  return metadata ? { kind: 'pull-request', repo: metadata.repo, pr: metadata.pr } : undefined;
}

const keyOf = (subject: PreviewSubject) =>
  subject.kind === 'tree' ? treeKey(subject.name) : jobIdFor(subject.repo, subject.pr);

const latest = (...times: (string | number | undefined)[]): string | undefined => {
  const ms = times
    .map((time) => (typeof time === 'number' ? time : time ? Date.parse(time) : Number.NaN))
    .filter((time) => Number.isFinite(time));
  return ms.length > 0 ? new Date(Math.max(...ms)).toISOString() : undefined;
};

/** A working tree's last run, as the CLI left it on the namespace; undefined when missing or unreadable. */
function treeRunOf(info: VirtualClusterInfo | undefined): Partial<TreeRun> | undefined {
  const mark = info?.annotations[annotations.lastRun];
  if (!mark) return undefined;
  try {
    const value = record(JSON.parse(mark));
    const error = record(value.error);
    return {
      ...(value.state === 'ready' || value.state === 'failed' ? { state: value.state } : {}),
      ...(Array.isArray(value.steps) ? { steps: value.steps as TreeRun['steps'] } : {}),
      ...(text(error.message) ? { error: { message: text(error.message)!, hint: text(error.hint) } } : {}),
      ...(text(value.finishedAt) ? { finishedAt: text(value.finishedAt) } : {}),
    };
  } catch {
    return undefined;
  }
}

function row(key: string, subject: PreviewSubject, cluster?: ClusterEntry, job?: JobEntry): PreviewRow {
  const info = cluster?.info;
  const sha = info?.annotations[annotations.commit];
  const data = record(job?.data);
  const status = previewStatus({
    ...(job
      ? {
          job: {
            id: job.id,
            state: job.state,
            ...(data.desired ? { desired: data.desired as never } : {}),
            progress: job.progress,
            returnValue: job.returnValue,
            ...(job.failedReason ? { failedReason: job.failedReason } : {}),
          },
        }
      : {}),
    place: { state: 'none' },
    ...(info
      ? {
          cluster: {
            namespace: info.namespace,
            state: info.state,
            ...(sha ? { sha } : {}),
            ...(cluster.url ? { url: cluster.url } : {}),
          },
        }
      : {}),
  });
  const run = subject.kind === 'tree' ? treeRunOf(info) : undefined;
  // A running virtual cluster whose last deploy failed is a failed preview (it serves the old app, if any).
  const state = run?.state === 'failed' && status.state === 'ready' ? 'failed' : status.state;
  // The reconcile's own words (message and hint) where its progress has them; the queue's otherwise.
  const reported = run?.error ?? record(record(job?.progress).error);
  const failing = state === 'failed' || state === 'retrying';
  const error = failing ? (text(reported.message) ?? status.error) : undefined;
  const hint = failing ? (text(reported.hint) ?? status.hint) : undefined;
  const steps = run?.steps ?? status.steps;
  const createdAt = info?.createdAt ?? (job ? new Date(job.timestamp).toISOString() : undefined);
  const lastActivity = latest(
    info?.annotations[annotations.lastActivity],
    run?.finishedAt,
    job?.finishedOn,
    job?.processedOn,
    job?.timestamp,
  );
  return {
    key,
    subject,
    state,
    paused: info?.state === 'paused',
    ...(status.url ? { url: status.url } : {}),
    ...(status.sha ? { sha: status.sha } : {}),
    ...(info ? { namespace: info.namespace, cluster: { name: info.name, namespace: info.namespace } } : {}),
    ...(createdAt ? { createdAt } : {}),
    ...(lastActivity ? { lastActivity } : {}),
    ...(steps ? { steps } : {}),
    ...(error ? { error } : {}),
    ...(hint ? { hint } : {}),
    ...(job ? { jobId: job.id, jobState: job.state } : {}),
  };
}

/**
 * Every preview that exists or has recent work: a host namespace without a job, a job whose preview
 * is gone (a failed first deploy, a teardown), or both. Newest activity first. Namespaces that are
 * no preview (made by `vcluster-preview create`) are left out.
 */
export function previewRows(clusters: readonly ClusterEntry[], jobs: readonly JobEntry[]): PreviewRow[] {
  const groups = new Map<string, { subject: PreviewSubject; cluster?: ClusterEntry; job?: JobEntry }>();
  for (const cluster of clusters) {
    const subject = clusterSubject(cluster.info);
    if (subject) groups.set(keyOf(subject), { subject, cluster });
  }
  for (const job of jobs) {
    const subject = jobSubject(job.data);
    if (!subject) continue;
    const key = keyOf(subject);
    const group = groups.get(key);
    if (!group) groups.set(key, { subject, job });
    else if (!group.job || job.timestamp > group.job.timestamp) group.job = job;
  }
  return [...groups.entries()]
    .map(([key, group]) => row(key, group.subject, group.cluster, group.job))
    .filter((preview) => preview.state !== 'none')
    .sort((a, b) => (b.lastActivity ?? '').localeCompare(a.lastActivity ?? '') || a.key.localeCompare(b.key));
}
