import { describe, expect, it } from 'vitest';
import { formatSyncerLine, summarizeSyncerLog } from './syncer-log.ts';

const at = Date.UTC(2026, 10, 27, 12, 3, 4);
const json = (fields: Record<string, unknown>) =>
  JSON.stringify({ pid: 1, hostname: 'vm', time: at, ...fields });

describe('formatSyncerLine', () => {
  it.each([
    ['an info line', json({ level: 30, msg: 'syncer started' }), '12:03:04 INFO syncer started'],
    [
      'a warning about an object, with its error',
      json({
        level: 40,
        msg: 'sync failed; retrying',
        kind: 'Pod',
        key: 'default/web-1',
        err: { message: 'admission webhook denied\nstack…' },
      }),
      '12:03:04 WARN sync failed; retrying (kind Pod, key default/web-1): admission webhook denied',
    ],
    [
      "the API server's reason rather than the error's first line",
      json({
        level: 40,
        msg: 'sync failed',
        kind: 'Pod',
        reason: 'pods "web-1-x-default-x-pr-1" is forbidden: exceeded quota',
        err: { message: 'HTTP-Code: 403\nMessage: Unknown API Status Code!' },
      }),
      '12:03:04 WARN sync failed (kind Pod): pods "web-1-x-default-x-pr-1" is forbidden: exceeded quota',
    ],
    [
      'an error',
      json({ level: 50, msg: 'informer stopped', informer: 'host/Pod' }),
      '12:03:04 ERROR informer stopped (informer host/Pod)',
    ],
    ['a debug line', json({ level: 20, msg: 'queued' }), undefined],
    ['a trace line', json({ level: 10, msg: 'event' }), undefined],
    ['a blank line', '   ', undefined],
    ['a plain text line', 'panic: something else', 'panic: something else'],
    ['broken JSON', '{"level":30,"msg"', '{"level":30,"msg"'],
    ['a line without time or level', JSON.stringify({ msg: 'hello' }), 'INFO hello'],
  ])('%s', (_what, line, expected) => {
    expect(formatSyncerLine(line)).toBe(expected);
  });

  it('cuts a very long line', () => {
    const line = formatSyncerLine(json({ level: 30, msg: 'x'.repeat(1000) }));
    expect(line).toHaveLength(300);
    expect(line?.endsWith('…')).toBe(true);
  });
});

describe('summarizeSyncerLog', () => {
  it('keeps the last lines worth showing, oldest first', () => {
    const lines = [
      json({ level: 30, msg: 'one' }),
      json({ level: 20, msg: 'debug' }),
      json({ level: 40, msg: 'two' }),
      '',
      json({ level: 30, msg: 'three' }),
    ];
    expect(summarizeSyncerLog(lines, 2)).toEqual(['12:03:04 WARN two', '12:03:04 INFO three']);
    expect(summarizeSyncerLog(lines)).toEqual([
      '12:03:04 INFO one',
      '12:03:04 WARN two',
      '12:03:04 INFO three',
    ]);
  });

  it('gives nothing for an empty log', () => {
    expect(summarizeSyncerLog([])).toEqual([]);
  });
});
