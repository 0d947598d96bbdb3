import { describe, expect, it } from 'vitest';
import { LatestWins } from './latest-wins.ts';

/** A write that stays in flight until the test lets it finish. */
function gatedWriter() {
  const written: string[] = [];
  const gates: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const write = async (value: string) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise<void>((resolve) => gates.push(resolve));
    inFlight -= 1;
    if (value.startsWith('fail')) throw new Error(`could not write ${value}`);
    written.push(value);
    return written.length;
  };
  const openNext = async () => {
    while (gates.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    gates.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 1));
  };
  return { write, written, openNext, maxInFlight: () => maxInFlight };
}

describe('LatestWins', () => {
  it('writes the first offer at once, then only the newest of those offered meanwhile', async () => {
    const writer = gatedWriter();
    const errors: unknown[] = [];
    const latest = new LatestWins({ write: writer.write, onError: (error) => errors.push(error) });
    latest.offer('a');
    latest.offer('b');
    latest.offer('c');
    latest.offer('d');
    await writer.openNext();
    await writer.openNext();
    expect(writer.written).toEqual(['a', 'd']);
    expect(writer.maxInFlight()).toBe(1);
    expect(latest.lastResult).toBe(2);
    expect(errors).toEqual([]);
  });

  it('settle waits for the write in flight, drops the older waiting value and writes its own', async () => {
    const writer = gatedWriter();
    const latest = new LatestWins({ write: writer.write, onError: () => {} });
    latest.offer('running');
    latest.offer('stale');
    const settled = latest.settle('final');
    await writer.openNext();
    await writer.openNext();
    await expect(settled).resolves.toBe(2);
    expect(writer.written).toEqual(['running', 'final']);
    expect(writer.maxInFlight()).toBe(1);
  });

  it('a failed background write is reported and the next offer is still written', async () => {
    const writer = gatedWriter();
    const errors: unknown[] = [];
    const latest = new LatestWins({ write: writer.write, onError: (error) => errors.push(error) });
    latest.offer('fail-1');
    await writer.openNext();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('fail-1');
    latest.offer('next');
    await writer.openNext();
    expect(writer.written).toEqual(['next']);
  });

  it('settle rethrows its own write error', async () => {
    const writer = gatedWriter();
    const latest = new LatestWins({ write: writer.write, onError: () => {} });
    const settled = expect(latest.settle('fail-final')).rejects.toThrow('could not write fail-final');
    await writer.openNext();
    await settled;
  });
});
