import type { VirtualClusterProvider } from '../../preview/provider.ts';
import { WaitingForSlotError } from '../errors/waiting-for-slot-error.ts';
import type { PreviewSlots } from '../slots/preview-slots.ts';
import type { ReconcileRun } from './reconcile-run.ts';

/**
 * Lets a preview that needs a slot of the cap (MAX_PREVIEWS…) start, or says its place in line in
 * the sticky comment and throws the WaitingForSlotError that puts the job back for a while.
 */
export async function claimSlot(
  run: ReconcileRun,
  provider: VirtualClusterProvider,
  slots: Pick<PreviewSlots, 'claim'>,
): Promise<void> {
  const { job, log } = run;
  const { desired } = job;
  const existing = await provider.get(run.ref);
  try {
    await slots.claim({
      repo: job.repo,
      pr: job.pr,
      ...(job.installationId !== undefined ? { installationId: job.installationId } : {}),
      desired: desired.kind,
      hasLivePreview: existing !== undefined && existing.state !== 'paused',
    });
  } catch (error) {
    // Told once per place: the job asks again every ~30 s, and the comment need not change with it.
    if (error instanceof WaitingForSlotError && error.placeChanged) {
      await run
        .report(
          {
            state: 'queued',
            queuePosition: error.place,
            reason: error.reason,
            ...('sha' in desired ? { sha: desired.sha } : {}),
          },
          { desired: desired.kind, waitingAt: error.place },
        )
        .catch((reportError) => log.warn({ err: reportError }, 'could not report the place in line'));
    }
    throw error;
  }
}
