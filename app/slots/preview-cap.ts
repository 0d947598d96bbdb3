import type { DesiredState } from '../desired-state.ts';

/**
 * Whether a pull request must wait for a free slot before its preview may start. Pure: the live
 * counts come from the host cluster's labels (done elsewhere), the limits from the service config.
 */

export interface PreviewLimits {
  /** Live previews across all installations; undefined for no limit. */
  total?: number;
  /** Live previews of one installation (one GitHub account or organisation); undefined for no limit. */
  perInstallation?: number;
}

export interface CapInput {
  /** Live (running, not paused) previews in all. */
  live: number;
  /** Live previews of this pull request's installation. */
  perInstallation: number;
  limits: PreviewLimits;
  /** What the pull request asks for; only what starts a preview can be held back. Default `up`. */
  desired?: DesiredState['kind'];
  /** This pull request's preview is live already: updating it takes no new slot. */
  hasLivePreview?: boolean;
}

export type CapDecision =
  | { wait: false }
  | {
      wait: true;
      /** Which limit is reached. */
      limit: 'total' | 'installation';
      live: number;
      max: number;
      /** For the pull request: what holds it back. */
      message: string;
    };

/** Desired states that bring a preview up (or back up) and so take a slot. */
const STARTS_A_PREVIEW: ReadonlySet<DesiredState['kind']> = new Set(['up', 'reset', 'redeploy', 'resume']);

/** Whether `desired` would take a new slot: it starts a preview, and none of this pull request's is live. */
export function needsSlot(desired: DesiredState['kind'] = 'up', hasLivePreview = false): boolean {
  return STARTS_A_PREVIEW.has(desired) && !hasLivePreview;
}

export function mustWait(input: CapInput): CapDecision {
  if (!needsSlot(input.desired, input.hasLivePreview)) return { wait: false };
  const { total, perInstallation } = input.limits;
  if (total !== undefined && input.live >= total) {
    return {
      wait: true,
      limit: 'total',
      live: input.live,
      max: total,
      message: `all ${total} preview slots are in use; this one starts when another pull request is closed or its preview paused`,
    };
  }
  if (perInstallation !== undefined && input.perInstallation >= perInstallation) {
    return {
      wait: true,
      limit: 'installation',
      live: input.perInstallation,
      max: perInstallation,
      message: `this account already has ${input.perInstallation} live previews (at most ${perInstallation}); this one starts when one of them is closed or paused`,
    };
  }
  return { wait: false };
}
