import { mustWait, type PreviewLimits } from './preview-cap.ts';

/**
 * Who of the pull requests waiting for a preview slot may start now. Pure: the line comes from Redis,
 * the live counts from the host cluster's labels (preview-slots.ts).
 */

export interface LineEntry {
  /** One pull request (its job de-duplication id). */
  key: string;
  installationId?: number;
}

export interface LineInput {
  /** The waiting pull requests, longest waiting first; `me` among them (or taken as last). */
  line: readonly LineEntry[];
  me: LineEntry;
  /** Live previews in all, and per installation. */
  live: number;
  liveByInstallation: ReadonlyMap<number | undefined, number>;
  limits: PreviewLimits;
}

export type LineDecision =
  | { wait: false }
  | { wait: true; place: number; limit: 'total' | 'installation'; message: string };

/**
 * Hands the free slots out in line order, so a pull request never overtakes one that waited longer
 * (two workers asking at once agree on who starts). A pull request held back only by its own
 * installation's share does not block the others: they take the slot it cannot use.
 */
export function decideInLine(input: LineInput): LineDecision {
  const line = input.line.some((entry) => entry.key === input.me.key)
    ? input.line
    : [...input.line, input.me];
  let granted = 0;
  const grantedTo = new Map<number | undefined, number>();
  for (const [index, entry] of line.entries()) {
    const decision = mustWait({
      live: input.live + granted,
      perInstallation:
        (input.liveByInstallation.get(entry.installationId) ?? 0) +
        (grantedTo.get(entry.installationId) ?? 0),
      limits: input.limits,
    });
    if (entry.key === input.me.key) {
      return decision.wait
        ? { wait: true, place: index + 1, limit: decision.limit, message: decision.message }
        : { wait: false };
    }
    if (!decision.wait) {
      granted += 1;
      grantedTo.set(entry.installationId, (grantedTo.get(entry.installationId) ?? 0) + 1);
    }
  }
  // Unreachable: `me` is in `line`.
  return { wait: false };
}
