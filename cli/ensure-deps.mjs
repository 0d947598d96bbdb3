#!/usr/bin/env node
// Installs the npm packages when node_modules is missing or older than package-lock.json, then
// builds dist/ when a source changed (controlplane/build.mjs), so the README's two commands work on a fresh
// clone. Node built-ins only until the install is done: nothing may be installed yet.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (file) => {
  try {
    return readFileSync(join(root, file), 'utf8');
  } catch {
    return undefined;
  }
};
const wanted = JSON.parse(read('package-lock.json') ?? '{}').packages ?? {};
const installed = JSON.parse(read('node_modules/.package-lock.json') ?? '{}').packages ?? {};
const stale = Object.entries(wanted).some(
  ([path, pkg]) => path !== '' && !pkg.optional && installed[path]?.version !== pkg.version,
);
if (stale) {
  console.log('installing npm packages (npm ci)…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
// The status page's test drives Debian's chromium (playwright-core); installed when missing, as
// cli/local-redis.ts installs redis-server. Only for `npm test`: `npm start` needs no browser.
if (process.env.npm_lifecycle_event === 'pretest' && !existsSync('/usr/bin/chromium')) {
  console.log('installing chromium (apt-get) for the status page test…');
  try {
    execFileSync(
      'sh',
      ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'],
      { stdio: 'inherit' },
    );
  } catch {
    console.error(
      "chromium is not installed and apt-get could not install it: install Debian's chromium (/usr/bin/chromium) and run the tests again",
    );
    process.exit(1);
  }
}
// After the install: the build needs esbuild. The launchers would build on first use anyway; doing
// it here keeps that wait out of the first command and reports a compile error up front.
const { build, checkBuild, exitOnCompileError } = await import('../controlplane/build.mjs');
const current = checkBuild();
if (current.reason) {
  console.log(`building dist/ (${current.reason})…`);
  await build().catch((error) => {
    exitOnCompileError(error);
    throw error;
  });
}
