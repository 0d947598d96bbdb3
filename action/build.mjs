#!/usr/bin/env node
// Bundles the Action (action/src/index.ts and its dependencies, @actions/core included) into the one
// file action.yml runs, action/dist/index.js. The runner runs the repository as it is, with no
// install step, so the bundle is committed; action/check-dist.test.ts fails when it is stale.
//
//   npm run build:action
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const distFile = join(root, 'action', 'dist', 'index.js');

/** The bundle's text, built in memory (the same options for the build and the staleness check). */
export async function bundleAction() {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['action/src/index.ts'],
    bundle: true,
    platform: 'node',
    // The runner has node24; node20 here runs the same file in the tests.
    target: 'node20',
    format: 'esm',
    // CommonJS dependencies inside an ES module bundle still call require() for node built-ins.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
    legalComments: 'none',
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = await bundleAction();
  mkdirSync(dirname(distFile), { recursive: true });
  writeFileSync(distFile, text);
  console.log(`action/dist/index.js: ${(text.length / 1024).toFixed(0)} KiB`);
}
