import { describe, expect, it } from 'vitest';
import { type CheckDecision, type CheckRunLike, decideChecks } from './check-decision.ts';

let nextId = 1;
const run = (name: string, status: string, conclusion: string | null = null): CheckRunLike => ({
  id: nextId++,
  name,
  status,
  conclusion,
  details_url: `https://ci.example/${name}/${nextId}`,
});
const early = { waitedMs: 1_000, timeoutMs: 60_000 };
const late = { waitedMs: 60_000, timeoutMs: 60_000 };

describe('decideChecks', () => {
  it.each<[string, string[], CheckRunLike[], typeof early, CheckDecision['kind'], Partial<CheckDecision>]>([
    ['one check succeeded', ['build'], [run('build', 'completed', 'success')], early, 'ready', {}],
    [
      'neutral and skipped pass too',
      ['lint', 'docs'],
      [run('lint', 'completed', 'neutral'), run('docs', 'completed', 'skipped')],
      early,
      'ready',
      {},
    ],
    [
      'a check in progress',
      ['build'],
      [run('build', 'in_progress')],
      early,
      'waiting',
      { pending: ['build'], missing: [] },
    ],
    [
      'a check not started yet, another queued',
      ['build', 'test'],
      [run('test', 'queued'), run('other', 'completed', 'failure')],
      early,
      'waiting',
      { pending: ['test'], missing: ['build'] },
    ],
    [
      'a failed check, while another still runs',
      ['test', 'build'],
      [run('test', 'in_progress'), run('build', 'completed', 'failure')],
      early,
      'failed',
      { name: 'build', conclusion: 'failure' },
    ],
    ...(['cancelled', 'timed_out', 'action_required'] as const).map(
      (conclusion) =>
        [
          `a check ${conclusion}`,
          ['build'],
          [run('build', 'completed', conclusion)],
          early,
          'failed',
          { name: 'build', conclusion },
        ] as [string, string[], CheckRunLike[], typeof early, CheckDecision['kind'], Partial<CheckDecision>],
    ),
    [
      'a failed run re-run and now in progress: the newest run counts',
      ['build'],
      [run('build', 'completed', 'failure'), run('build', 'in_progress')],
      early,
      'waiting',
      { pending: ['build'] },
    ],
    [
      'a failed run re-run with success',
      ['build'],
      [run('build', 'completed', 'failure'), run('build', 'completed', 'success')],
      early,
      'ready',
      {},
    ],
    [
      'still waiting when the time is up',
      ['build', 'test'],
      [run('build', 'in_progress')],
      late,
      'timed-out',
      { pending: ['build'], missing: ['test'] },
    ],
    [
      'a failure is told even after the timeout',
      ['build'],
      [run('build', 'completed', 'failure')],
      late,
      'failed',
      { name: 'build' },
    ],
    ['success at the last moment', ['build'], [run('build', 'completed', 'success')], late, 'ready', {}],
  ])('%s', (_name, wanted, runs, clock, kind, fields) => {
    const decision = decideChecks(wanted, runs, clock);
    expect(decision.kind).toBe(kind);
    expect(decision).toMatchObject(fields);
  });

  it('links the failed run’s details, or its page when it has none', () => {
    const failed = run('build', 'completed', 'failure');
    expect(decideChecks(['build'], [failed], early)).toEqual({
      kind: 'failed',
      name: 'build',
      conclusion: 'failure',
      detailsUrl: failed.details_url,
    });
    const bare = { ...failed, details_url: null, html_url: 'https://github.com/acme/hello/runs/9' };
    expect(decideChecks(['build'], [bare], early)).toMatchObject({
      detailsUrl: 'https://github.com/acme/hello/runs/9',
    });
  });
});
