import { describe, expect, it } from 'vitest';
import { BadConfigError } from '../errors/bad-config-error.ts';
import { bringUpFailure, singleStepFailure } from './failure-report.ts';

describe('bringUpFailure', () => {
  const bad = new BadConfigError(
    'expose.port: expected a number',
    'fix .github/vcluster-preview.yml and push a commit',
  );
  it.each([
    {
      what: 'a bad config: its detail, its hint as a sentence, no retry',
      input: { step: 'Read config', error: bad, lastAttempt: false, syncerSaw: '' },
      expected: {
        message: 'Read config failed:\nexpose.port: expected a number',
        hint: 'Fix .github/vcluster-preview.yml and push a commit.',
      },
    },
    {
      what: 'a bad config without a hint',
      input: { step: 'Deploy', error: new BadConfigError('no chart'), lastAttempt: false, syncerSaw: '' },
      expected: { message: 'Deploy failed:\nno chart' },
    },
    {
      what: 'a failure that is retried, with the attempt',
      input: { step: 'Deploy', error: new Error('timed out'), lastAttempt: false, attempt: 2, syncerSaw: '' },
      expected: {
        message: 'Deploy failed (retrying):\ntimed out',
        hint: 'vcluster-preview retries this automatically (attempt 2 failed); if it keeps failing, comment `/vcluster reset`.',
      },
    },
    {
      what: 'the last attempt, with what the syncer saw',
      input: {
        step: 'Deploy',
        error: new Error('timed out'),
        lastAttempt: true,
        syncerSaw: '\n\nWhat the syncer saw last:\n12:00:00 WARN refused',
      },
      expected: {
        message: 'Deploy failed:\ntimed out\n\nWhat the syncer saw last:\n12:00:00 WARN refused',
        hint: 'No attempts left: comment `/vcluster redeploy` to try again. `/vcluster reset` starts again from an empty virtual cluster.',
      },
    },
    {
      what: 'before the first step',
      input: { step: undefined, error: 'boom', lastAttempt: false, syncerSaw: '' },
      expected: {
        message: 'Preparing failed (retrying):\nboom',
        hint: 'vcluster-preview retries this automatically; if it keeps failing, comment `/vcluster reset`.',
      },
    },
  ])('$what', ({ input, expected }) => {
    expect(bringUpFailure(input)).toStrictEqual(expected);
  });
});

describe('singleStepFailure', () => {
  it.each([
    [false, 'vcluster-preview is retrying this automatically.'],
    [true, 'No attempts left: comment `/vcluster pause` to try again.'],
  ])('last attempt %s → %s', (lastAttempt, hint) => {
    expect(
      singleStepFailure({
        step: 'Pause virtual cluster',
        error: new Error('gone'),
        command: 'pause',
        lastAttempt,
      }),
    ).toStrictEqual({ message: 'Pause virtual cluster failed: gone', hint });
  });
});
