import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('hands out each key once however often it was added while waiting', async () => {
    const queue = new WorkQueue();
    for (const key of ['a', 'b', 'a', 'a', 'c', 'b']) queue.add(key);
    expect(queue.depth).toBe(3);
    const keys = [await queue.get(), await queue.get(), await queue.get()].map((item) => item?.key);
    expect(keys).toEqual(['a', 'b', 'c']);
    expect(queue.depth).toBe(0);
  });

  it('never gives a key to two workers at once, and re-queues it after done when added meanwhile', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    expect(queue.depth).toBe(0);
    let second: string | undefined;
    void queue.get().then((item) => {
      second = item?.key;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done(first!.key);
    await Promise.resolve();
    expect(second).toBe('a');
  });

  it('hands out urgent keys before the others, each lane in order, and still only once', async () => {
    const queue = new WorkQueue();
    queue.add('status-1');
    queue.add('status-2');
    queue.addUrgent('new-1');
    queue.addUrgent('status-1');
    queue.addUrgent('new-2');
    expect(queue.depth).toBe(4);
    const keys = [];
    for (let i = 0; i < 4; i++) keys.push((await queue.get())?.key);
    // status-1 was already waiting: it keeps its place instead of jumping the line twice
    expect(keys).toEqual(['new-1', 'new-2', 'status-1', 'status-2']);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('x');
    expect((await waiting)?.key).toBe('x');
  });

  it('backs off exponentially per key until forgotten', () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
    expect([1, 2, 3, 4, 5].map(() => queue.addRateLimited('k'))).toEqual([10, 20, 40, 50, 50]);
    expect(queue.retries('k')).toBe(5);
    queue.forget('k');
    expect(queue.addRateLimited('k')).toBe(10);
    queue.shutDown();
  });

  it('delivers a delayed key after its delay', async () => {
    const queue = new WorkQueue();
    queue.addAfter('later', 20);
    expect(queue.depth).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(queue.depth).toBe(1);
  });

  it('releases waiting workers on shutdown and ignores new keys', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('late');
    expect(queue.depth).toBe(0);
  });
});
