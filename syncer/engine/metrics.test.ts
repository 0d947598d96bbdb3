import { describe, expect, it } from 'vitest';
import { SyncerMetrics, timePhase } from './metrics.ts';

/** The observation count of one phase, as /metrics would show it. */
async function countOf(metrics: SyncerMetrics, phase: string): Promise<number | undefined> {
  const { values } = await metrics.phaseSeconds.get();
  return values.find(
    (v) => v.metricName === 'vcluster_syncer_phase_seconds_count' && v.labels.phase === phase,
  )?.value;
}

describe('timePhase', () => {
  it('returns what the phase returned and records it once under its kind and phase', async () => {
    const metrics = new SyncerMetrics();
    await expect(timePhase(metrics, 'Pod', 'token', async () => 'minted')).resolves.toBe('minted');
    await timePhase(metrics, 'Pod', 'token', async () => 'again');
    expect(await countOf(metrics, 'token')).toBe(2);
    expect(await countOf(metrics, 'host-create')).toBeUndefined();
  });

  it('records a failed phase too and throws its error on', async () => {
    const metrics = new SyncerMetrics();
    await expect(
      timePhase(metrics, 'Pod', 'host-create', async () => {
        throw new Error('host said no');
      }),
    ).rejects.toThrow('host said no');
    expect(await countOf(metrics, 'host-create')).toBe(1);
  });
});
