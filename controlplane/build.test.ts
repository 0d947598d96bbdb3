import { describe, expect, it } from 'vitest';
import { staleReason } from './build.mjs';

const entries = { cli: 'cli/main.ts', runner: 'preview/providers/local/runner.ts' };
const manifest = {
  id: 'abc',
  entries,
  inputs: { 'cli/main.ts': 'h1', 'kube/client.ts': 'h2', 'tsconfig.json': 'h3' },
};
const files = (overrides: Record<string, string | undefined> = {}) => {
  const current: Record<string, string | undefined> = { ...manifest.inputs, ...overrides };
  return (path: string) => current[path];
};

describe('staleReason', () => {
  it('is undefined when every recorded input has the hash it was built from', () => {
    expect(staleReason(manifest, entries, files())).toBeUndefined();
  });

  it('names a changed input', () => {
    expect(staleReason(manifest, entries, files({ 'kube/client.ts': 'h2-edited' }))).toBe(
      'kube/client.ts changed',
    );
  });

  it('names an input that is gone (renamed or deleted: the build must fail or change)', () => {
    expect(staleReason(manifest, entries, files({ 'tsconfig.json': undefined }))).toBe(
      'tsconfig.json is gone',
    );
  });

  it('rebuilds when there is no manifest, or one that is not a manifest', () => {
    expect(staleReason(undefined, entries, files())).toBe('no build yet');
    expect(staleReason({ id: 'abc' }, entries, files())).toBe('no build yet');
    expect(staleReason({ id: 'abc', entries, inputs: {} }, entries, files())).toBe('no inputs recorded');
  });

  it('rebuilds when an entry is new or points at another source', () => {
    expect(staleReason(manifest, { ...entries, worker: 'app/worker.ts' }, files())).toBe(
      'entry worker (app/worker.ts) not built',
    );
    expect(staleReason(manifest, { ...entries, cli: 'cli/other.ts' }, files())).toBe(
      'entry cli (cli/other.ts) not built',
    );
  });

  it('does not care about files that were not inputs', () => {
    const hashOf = (path: string) => (path in manifest.inputs ? files()(path) : 'anything');
    expect(staleReason(manifest, entries, hashOf)).toBeUndefined();
  });
});
