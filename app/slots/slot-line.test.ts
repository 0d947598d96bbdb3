import { describe, expect, it } from 'vitest';
import { decideInLine, type LineEntry } from './slot-line.ts';

const entry = (key: string, installationId?: number): LineEntry => ({
  key,
  ...(installationId !== undefined ? { installationId } : {}),
});
const none = new Map<number | undefined, number>();

describe('decideInLine', () => {
  it('lets the first in line start when a slot is free, and holds the second back with its place', () => {
    const line = [entry('a', 1), entry('b', 2)];
    const input = { line, live: 1, liveByInstallation: none, limits: { total: 2 } };
    expect(decideInLine({ ...input, me: line[0]! })).toEqual({ wait: false });
    expect(decideInLine({ ...input, me: line[1]! })).toMatchObject({
      wait: true,
      place: 2,
      limit: 'total',
      message: expect.stringContaining('all 2 preview slots are in use'),
    });
  });

  it('never lets a later one overtake: with no slot free, everyone waits at their place', () => {
    const line = [entry('a'), entry('b'), entry('c')];
    const input = { line, live: 3, liveByInstallation: none, limits: { total: 3 } };
    expect(line.map((me) => decideInLine({ ...input, me }))).toMatchObject([
      { wait: true, place: 1 },
      { wait: true, place: 2 },
      { wait: true, place: 3 },
    ]);
  });

  it('takes a pull request that is not in line yet as the last one', () => {
    const decision = decideInLine({
      line: [entry('a'), entry('b')],
      me: entry('new'),
      live: 0,
      liveByInstallation: none,
      limits: { total: 1 },
    });
    expect(decision).toMatchObject({ wait: true, place: 3 });
  });

  it('does not let one held back by its own installation block the others', () => {
    const line = [entry('a', 1), entry('b', 2)];
    const input = {
      line,
      live: 2,
      liveByInstallation: new Map([[1, 2]]),
      limits: { total: 3, perInstallation: 2 },
    };
    expect(decideInLine({ ...input, me: line[0]! })).toMatchObject({
      wait: true,
      place: 1,
      limit: 'installation',
      message: expect.stringContaining('at most 2'),
    });
    expect(decideInLine({ ...input, me: line[1]! })).toEqual({ wait: false });
  });

  it('counts the slots handed to those ahead against their installation too', () => {
    const line = [entry('a', 1), entry('b', 1), entry('c', 2)];
    const input = { line, live: 0, liveByInstallation: none, limits: { total: 10, perInstallation: 1 } };
    expect(line.map((me) => decideInLine({ ...input, me }).wait)).toEqual([false, true, false]);
  });

  it('has no line at all without limits', () => {
    expect(
      decideInLine({
        line: [entry('a'), entry('b')],
        me: entry('b'),
        live: 500,
        liveByInstallation: none,
        limits: {},
      }),
    ).toEqual({ wait: false });
  });
});
