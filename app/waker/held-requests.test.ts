import { describe, expect, it } from 'vitest';
import { HeldRequests } from './held-requests.ts';

describe('HeldRequests', () => {
  it('holds up to the limit per preview and in all, and frees a place on release', () => {
    const held = new HeldRequests({ perPreview: 2, total: 3, askEveryMs: 1000 });
    const a1 = held.hold('a');
    const a2 = held.hold('a');
    expect(a1 && a2).toBeTruthy();
    expect(held.hold('a')).toBeUndefined();
    const b1 = held.hold('b');
    expect(b1).toBeDefined();
    expect(held.hold('c')).toBeUndefined();
    expect(held.size()).toBe(3);
    a1?.();
    a1?.(); // a second release frees nothing more
    expect(held.size('a')).toBe(1);
    expect(held.size()).toBe(2);
    expect(held.hold('c')).toBeDefined();
  });

  it('asks once per interval for one preview, and afresh once its requests are all gone', () => {
    let now = 0;
    const held = new HeldRequests({ perPreview: 5, total: 5, askEveryMs: 1000 }, () => now);
    const release = held.hold('a');
    expect(held.shouldAsk('a')).toBe(true);
    expect(held.shouldAsk('a')).toBe(false);
    expect(held.shouldAsk('b')).toBe(true);
    now = 999;
    expect(held.shouldAsk('a')).toBe(false);
    now = 1000;
    expect(held.shouldAsk('a')).toBe(true);
    release?.();
    expect(held.shouldAsk('a')).toBe(true);
  });
});
