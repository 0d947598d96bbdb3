import { describe, expect, it } from 'vitest';
import { mustWait, needsSlot } from './preview-cap.ts';

const limits = { total: 10, perInstallation: 3 };

describe('mustWait', () => {
  it('lets a preview start while both limits have room', () => {
    expect(mustWait({ live: 9, perInstallation: 2, limits })).toEqual({ wait: false });
  });

  it('holds a new preview back when all slots are taken', () => {
    const decision = mustWait({ live: 10, perInstallation: 0, limits });
    expect(decision).toMatchObject({ wait: true, limit: 'total', live: 10, max: 10 });
    expect(decision.wait && decision.message).toContain('all 10 preview slots are in use');
  });

  it('holds a new preview back when its installation has its share', () => {
    const decision = mustWait({ live: 4, perInstallation: 3, limits });
    expect(decision).toMatchObject({ wait: true, limit: 'installation', live: 3, max: 3 });
    expect(decision.wait && decision.message).toContain('at most 3');
  });

  it('reports the total limit first when both are reached', () => {
    expect(mustWait({ live: 12, perInstallation: 5, limits })).toMatchObject({ limit: 'total' });
  });

  it('never holds back an update of a live preview, or what stops one', () => {
    expect(mustWait({ live: 10, perInstallation: 3, limits, hasLivePreview: true })).toEqual({ wait: false });
    for (const desired of ['down', 'pause', 'skip', 'await-approval'] as const) {
      expect(mustWait({ live: 99, perInstallation: 99, limits, desired }), desired).toEqual({ wait: false });
    }
    for (const desired of ['up', 'reset', 'redeploy', 'resume'] as const) {
      expect(mustWait({ live: 10, perInstallation: 0, limits, desired }).wait, desired).toBe(true);
    }
  });

  it('has no limit where none is set, and none at all with a limit of 0', () => {
    expect(mustWait({ live: 1000, perInstallation: 1000, limits: {} })).toEqual({ wait: false });
    expect(mustWait({ live: 0, perInstallation: 0, limits: { total: 0 } }).wait).toBe(true);
  });
});

describe('needsSlot', () => {
  it('is what starts a preview that is not live already', () => {
    expect(needsSlot('up', false)).toBe(true);
    expect(needsSlot('resume', false)).toBe(true);
    expect(needsSlot('reset', true)).toBe(false);
    expect(needsSlot('down', false)).toBe(false);
    expect(needsSlot()).toBe(true);
  });
});
