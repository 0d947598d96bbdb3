import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleAction, distFile } from './build.mjs';

// The runner runs action/dist/index.js from the repository as it is: a change to action/src (or to
// a bundled dependency) that was not rebuilt would ship the old Action.
describe('action/dist', () => {
  it('is the bundle of action/src as it is now (run `npm run build:action` and commit it)', async () => {
    const fresh = await bundleAction();
    const committed = readFileSync(distFile, 'utf8');
    expect(committed.length, 'action/dist/index.js is stale: run `npm run build:action`').toBe(fresh.length);
    expect(committed === fresh, 'action/dist/index.js is stale: run `npm run build:action`').toBe(true);
  });
});
