import type { VirtualClusterState } from '../../preview/index.ts';
import { parseDuration } from '../../preview/index.ts';
import type { JobReason } from '../queue/preview-job.ts';

/**
 * What a sweep should do with the previews that exist. Pure: what exists (host cluster), what GitHub
 * says about each pull request and what the queue holds are gathered by sweep-previews.ts.
 */

/** The repo config's defaults (preview/repo-config.ts), for previews made before lifetimes were stamped. */
export const DEFAULT_TTL = '7d';
export const DEFAULT_SLEEP_AFTER = '1h';

/** `unknown`: GitHub could not be asked (no installation on record, an outage); nothing is decided on it. */
export type PullRequestState = 'open' | 'closed' | 'not-found' | 'unknown';

export interface SweepCandidate {
  /** `owner/name` as GitHub spells it. */
  repo: string;
  pr: number;
  installationId?: number;
  state: VirtualClusterState;
  /** ISO times from the host namespace's marks. */
  createdAt?: string;
  lastActivity?: string;
  /** When the sweep saw requests to its URL (the ingress controller's metrics): activity as much as a deploy. */
  lastVisit?: string;
  /** As written in the repo config (`7d`); the defaults when missing or unreadable. */
  ttl?: string;
  sleepAfter?: string;
  pullRequest: PullRequestState;
  /** A job for this pull request waits, runs or backs off: it decides, not the sweep. */
  hasJob: boolean;
  /** `/vcluster keep` or the keep label: never paused nor expired, only gone with its pull request. */
  kept?: boolean;
}

export interface SweepAction {
  repo: string;
  pr: number;
  installationId?: number;
  desired: { kind: 'down' } | { kind: 'pause' };
  reason: JobReason;
}

/** A duration as written, or the default when it is missing or not one (a hand-edited annotation). */
const lifetime = (written: string | undefined, fallback: string): { text: string; ms: number } => {
  if (written) {
    try {
      return { text: written, ms: parseDuration(written) };
    } catch {
      // fall through to the default
    }
  }
  return { text: fallback, ms: parseDuration(fallback) };
};

const timeOf = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

function planOne(
  candidate: SweepCandidate,
  now: number,
): Pick<SweepAction, 'desired' | 'reason'> | undefined {
  // A queued or running job carries a newer decision (a push, a command): never overrule it.
  if (candidate.hasJob) return undefined;
  if (candidate.pullRequest === 'closed') {
    return { desired: { kind: 'down' }, reason: { kind: 'closed', text: 'the pull request was closed' } };
  }
  if (candidate.pullRequest === 'not-found') {
    return {
      desired: { kind: 'down' },
      reason: { kind: 'orphaned', text: 'its pull request no longer exists' },
    };
  }
  if (candidate.kept) return undefined;
  // The ttl counts from the last activity (deploy, resume or visit), falling back to creation, as Okteto
  // does (deleted after 7 days without activity) and unlike a ttl from creation (Signadot's other
  // choice): a pull request still pushed to after a week is in review, and deleting its preview
  // under the reviewers would only cost a cold start on the next push.
  const active = [timeOf(candidate.lastActivity), timeOf(candidate.lastVisit)].filter(
    (time): time is number => time !== undefined,
  );
  const since = active.length > 0 ? Math.max(...active) : timeOf(candidate.createdAt);
  if (since === undefined) return undefined;
  const ttl = lifetime(candidate.ttl, DEFAULT_TTL);
  if (now - since >= ttl.ms) {
    return { desired: { kind: 'down' }, reason: { kind: 'expired', text: `past its ttl of ${ttl.text}` } };
  }
  const sleepAfter = lifetime(candidate.sleepAfter, DEFAULT_SLEEP_AFTER);
  if (candidate.state === 'running' && now - since >= sleepAfter.ms) {
    return {
      desired: { kind: 'pause' },
      reason: { kind: 'idle', text: `idle for ${sleepAfter.text}: paused` },
    };
  }
  return undefined;
}

/** One action per preview that should be deleted or paused now, in the order given. */
export function planSweep(candidates: readonly SweepCandidate[], now: Date): SweepAction[] {
  const actions: SweepAction[] = [];
  for (const candidate of candidates) {
    const planned = planOne(candidate, now.getTime());
    if (!planned) continue;
    actions.push({
      repo: candidate.repo,
      pr: candidate.pr,
      ...(candidate.installationId !== undefined ? { installationId: candidate.installationId } : {}),
      ...planned,
    });
  }
  return actions;
}
