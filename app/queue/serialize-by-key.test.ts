import { describe, expect, it } from 'vitest';
import { serializeByKey } from './serialize-by-key.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('serializeByKey', () => {
  it('runs tasks of one key in call order, one at a time, and other keys alongside', async () => {
    const serial = serializeByKey();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([
      serial('a', task('a1', 30)),
      serial('a', task('a2', 1)),
      serial('b', task('b1', 5)),
    ]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(events.indexOf('end a1')).toBeLessThan(events.indexOf('start a2'));
    expect(events.indexOf('start b1')).toBeLessThan(events.indexOf('end a1'));
  });

  it('goes on after a task fails, and passes the failure to its caller', async () => {
    const serial = serializeByKey();
    const failed = serial('a', async () => {
      throw new Error('boom');
    });
    const next = serial('a', async () => 'fine');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('fine');
  });
});
