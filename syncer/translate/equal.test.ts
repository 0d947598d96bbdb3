import { describe, expect, it } from 'vitest';
import { deepEqual, mapPatch } from './equal.ts';

describe('deepEqual', () => {
  it.each([
    { a: { x: 1 }, b: { x: 1 }, equal: true },
    { a: { x: 1, y: undefined }, b: { x: 1 }, equal: true },
    { a: { x: [1, 2] }, b: { x: [2, 1] }, equal: false },
    { a: { t: new Date('2024-01-01T00:00:00Z') }, b: { t: new Date('2024-01-01T00:00:00Z') }, equal: true },
    { a: { t: new Date('2024-01-01T00:00:00Z') }, b: { t: '2024-01-01T00:00:00Z' }, equal: false },
    { a: { x: {} }, b: { x: null }, equal: false },
    { a: [], b: {}, equal: false },
    { a: 'a', b: 'a', equal: true },
  ])('$a vs $b → $equal', ({ a, b, equal }) => {
    expect(deepEqual(a, b)).toBe(equal);
  });
});

type Labels = Record<string, string> | undefined;

describe('mapPatch', () => {
  it.each<{ current: Labels; desired: Labels; patch: unknown }>([
    { current: { a: '1' }, desired: { a: '1' }, patch: undefined },
    { current: undefined, desired: undefined, patch: undefined },
    { current: { a: '1', b: '2' }, desired: { a: '3' }, patch: { a: '3', b: null } },
    { current: undefined, desired: { a: '1' }, patch: { a: '1' } },
  ])('$current → $desired', ({ current, desired, patch }) => {
    expect(mapPatch(current, desired)).toEqual(patch);
  });
});
