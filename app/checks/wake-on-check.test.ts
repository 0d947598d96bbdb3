import { describe, expect, it } from 'vitest';
import { type CheckEvent, wakesPreview } from './wake-on-check.ts';

describe('wakesPreview', () => {
  it.each<[string, CheckEvent, boolean]>([
    [
      'a waited-for check, job held back',
      { kind: 'check_run', name: 'build', waitFor: ['build'], place: 'delayed' },
      true,
    ],
    [
      'a waited-for check re-run after the preview failed',
      { kind: 'check_run', name: 'build', waitFor: ['build'], place: 'none' },
      true,
    ],
    [
      'a waited-for check, job about to start',
      { kind: 'check_run', name: 'build', waitFor: ['build'], place: 'waiting' },
      false,
    ],
    [
      'a waited-for check, job running',
      { kind: 'check_run', name: 'build', waitFor: ['build'], place: 'active' },
      false,
    ],
    ['another check', { kind: 'check_run', name: 'lint', waitFor: ['build'], place: 'delayed' }, false],
    [
      'a repo that waits for nothing',
      { kind: 'check_run', name: 'build', waitFor: undefined, place: 'delayed' },
      false,
    ],
    ['a suite, job held back', { kind: 'check_suite', waitFor: ['build'], place: 'delayed' }, true],
    ['a suite, nothing queued', { kind: 'check_suite', waitFor: ['build'], place: 'none' }, false],
    [
      'a suite of a repo that waits for nothing',
      { kind: 'check_suite', waitFor: [], place: 'delayed' },
      false,
    ],
  ])('%s → %s', (_name, event, wakes) => {
    expect(wakesPreview(event)).toBe(wakes);
  });
});
