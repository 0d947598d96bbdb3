/**
 * Whether the CI checks a repo config waits for (`waitFor.checks`) let the head commit be deployed.
 * Pure: the check runs come from `GET /repos/{o}/{r}/commits/{sha}/check-runs`, the clock from the caller.
 */

/** The fields of a GitHub check run that decide. */
export interface CheckRunLike {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  details_url?: string | null;
  html_url?: string | null;
}

export type CheckDecision =
  | { kind: 'ready' }
  /** `pending`: started (queued or in progress); `missing`: no run of that name for the commit yet. */
  | { kind: 'waiting'; pending: string[]; missing: string[] }
  | { kind: 'failed'; name: string; conclusion: string; detailsUrl?: string }
  | { kind: 'timed-out'; pending: string[]; missing: string[] };

/** Conclusions that let the deploy go ahead; anything else that completed is a failure. */
const PASSING = new Set(['success', 'neutral', 'skipped']);

/** A re-run is a new check run of the same name, with a higher id: only the newest counts. */
const newestByName = (runs: readonly CheckRunLike[]): Map<string, CheckRunLike> => {
  const newest = new Map<string, CheckRunLike>();
  for (const run of runs) {
    const seen = newest.get(run.name);
    if (!seen || run.id > seen.id) newest.set(run.name, run);
  }
  return newest;
};

export function decideChecks(
  wanted: readonly string[],
  runs: readonly CheckRunLike[],
  clock: { waitedMs: number; timeoutMs: number },
): CheckDecision {
  const newest = newestByName(runs);
  const pending: string[] = [];
  const missing: string[] = [];
  for (const name of new Set(wanted)) {
    const run = newest.get(name);
    if (!run) {
      missing.push(name);
      continue;
    }
    if (run.status !== 'completed') {
      pending.push(name);
      continue;
    }
    const conclusion = run.conclusion ?? 'unknown';
    if (!PASSING.has(conclusion)) {
      const detailsUrl = run.details_url || run.html_url || undefined;
      return { kind: 'failed', name, conclusion, ...(detailsUrl ? { detailsUrl } : {}) };
    }
  }
  if (pending.length === 0 && missing.length === 0) return { kind: 'ready' };
  if (clock.waitedMs >= clock.timeoutMs) return { kind: 'timed-out', pending, missing };
  return { kind: 'waiting', pending, missing };
}
