#!/usr/bin/env node
// Compiles the long-running Node processes (the CLI, the local provider's runner) to plain ESM
// JavaScript in dist/, and starts them from there. tsx costs about 100 MB per process; a bundle of
// the same code costs nothing extra. Node built-ins only until a build is really needed: esbuild is
// imported lazily, so checking that dist/ is up to date is a few milliseconds of hashing.
//
// Freshness is a content hash of every file that went into the bundle (recorded while esbuild reads
// them, so the record matches exactly what was compiled) plus this script, tsconfig.json and
// esbuild's version. Content, not mtimes: a checkout, a stash, a `cp -p` or a clock skew can all
// leave a changed file with an older time, and then a test would silently run old code.
//
// Each build goes to its own folder dist/<id>/, and dist/manifest.json (replaced by one rename)
// names the folder and the hashes that made it: several processes that start at once and find
// dist/ stale may all build, and none of them ever sees a half-written bundle or a manifest that
// does not belong to its files. No lock, so nothing to leave behind when a build is killed.
//
//   node controlplane/build.mjs           build when stale (what `npm start` / `npm test` do first)
//   node controlplane/build.mjs --force   build anyway
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const distDir = join(root, 'dist');
const manifestPath = join(distDir, 'manifest.json');

/** What can be started from dist/: name → TypeScript entry (relative to the repository). */
export const entries = {
  cli: 'cli/main.ts',
  runner: 'preview/providers/local/runner.ts',
};

/**
 * Packages compiled into the bundle instead of imported from node_modules at run time. The
 * Kubernetes client is an ES module tree of ~1000 files with every API group and model; bundled,
 * only the API groups we call are kept, and a process that uses it is ~20 MB smaller. Its own
 * dependencies stay external (all hoisted to the top node_modules, so they resolve from dist/).
 */
export const bundledPackages = ['@kubernetes/client-node'];

/** Files that shape the output without being bundled: a change to any of them rebuilds too. */
const buildInputs = ['controlplane/build.mjs', 'tsconfig.json', 'node_modules/esbuild/package.json'];

/** A replaced build stays this long, for a process that read the previous manifest a moment ago. */
const keepOldBuildsMs = 60_000;

/** A file's key in the manifest: its path from the repository root, with forward slashes. */
const toKey = (path) => relative(root, path).split(sep).join('/');

/** SHA-256 of a file's bytes, or undefined when it cannot be read (deleted, renamed). */
export function hashFile(path) {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Why a build is out of date, or undefined when it is current. Pure: `hashOf` gives the current
 * hash of a repository-relative path (undefined when the file is gone).
 * @param {{ id?: unknown, entries?: unknown, inputs?: unknown } | undefined} manifest
 * @param {Record<string, string>} wantedEntries
 * @param {(path: string) => string | undefined} hashOf
 * @returns {string | undefined}
 */
export function staleReason(manifest, wantedEntries, hashOf) {
  if (!manifest || typeof manifest.id !== 'string' || typeof manifest.inputs !== 'object' || !manifest.inputs)
    return 'no build yet';
  const built = /** @type {Record<string, unknown>} */ (manifest.entries ?? {});
  for (const [name, source] of Object.entries(wantedEntries)) {
    if (built[name] !== source) return `entry ${name} (${source}) not built`;
  }
  const inputs = /** @type {Record<string, unknown>} */ (manifest.inputs);
  const paths = Object.keys(inputs);
  if (paths.length === 0) return 'no inputs recorded';
  for (const path of paths) {
    const now = hashOf(path);
    if (now === undefined) return `${path} is gone`;
    if (now !== inputs[path]) return `${path} changed`;
  }
  return undefined;
}

function readManifest() {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The current build's folder, or undefined with the reason it must be rebuilt. */
export function checkBuild() {
  const manifest = readManifest();
  const reason = staleReason(manifest, entries, (path) => hashFile(join(root, path)));
  return reason ? { reason } : { dir: join(distDir, manifest.id) };
}

/**
 * Points `import.meta.url`/`dirname`/`filename` of a bundled file back at its source file, relative
 * to the bundle, so code that finds its neighbours (controlplane/go, charts/, runner-entry.js) works
 * the same from dist/ as from source, wherever the checkout lives.
 */
function rewriteImportMeta(contents, sourcePath, outDir) {
  if (!contents.includes('import.meta.')) return contents;
  const fromBundle = JSON.stringify(relative(outDir, sourcePath).split('\\').join('/'));
  const url = `new URL(${fromBundle}, import.meta.url)`;
  // What Node's fileURLToPath does on POSIX, inline, so the rewrite needs no import of its own.
  return contents
    .replace(/\bimport\.meta\.url\b/g, `${url}.href`)
    .replace(/\bimport\.meta\.filename\b/g, `decodeURIComponent(${url}.pathname)`)
    .replace(/\bimport\.meta\.dirname\b/g, `decodeURIComponent(new URL('.', ${url}).pathname).slice(0, -1)`);
}

/**
 * Our .ts/.js files: under any top-level folder but node_modules and dist. A filter esbuild applies
 * itself (Go regular expressions have no lookahead, hence the list), so the ~1000 files of bundled
 * packages never make a round trip through JavaScript.
 */
function ourSources() {
  const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const folders = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !['node_modules', 'dist', '.git'].includes(entry.name))
    .map((entry) => escapeRegExp(entry.name));
  return new RegExp(`^${escapeRegExp(root + sep)}(${folders.join('|')})${escapeRegExp(sep)}.*\\.[cm]?[jt]s$`);
}

/** Builds every entry into a new dist/<id>/ and makes it current; returns its folder. */
export async function build() {
  const esbuild = await import('esbuild');
  const inputs = {};
  for (const path of buildInputs) {
    const hash = hashFile(join(root, path));
    if (hash) inputs[path] = hash;
  }
  // Every build is laid out at the same depth (dist/<id>/), so paths computed against a stand-in
  // folder hold for the real one.
  const outDir = join(distDir, 'build');
  const sources = {
    name: 'hash-and-locate-sources',
    setup(context) {
      // Bare specifiers (packages) are imported from node_modules at run time, except bundledPackages.
      context.onResolve({ filter: /^[^./]/ }, (args) =>
        bundledPackages.some((name) => args.path === name || args.path.startsWith(`${name}/`))
          ? undefined
          : { external: true },
      );
      // Our sources are hashed as esbuild reads them (they are what changes while a process starts);
      // bundled packages are hashed from the metafile afterwards, leaving esbuild's fast path to them.
      context.onLoad({ filter: ourSources(), namespace: 'file' }, (args) => {
        const bytes = readFileSync(args.path);
        inputs[toKey(args.path)] = createHash('sha256').update(bytes).digest('hex');
        const loader = /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js';
        return { contents: rewriteImportMeta(bytes.toString('utf8'), args.path, outDir), loader };
      });
    },
  };
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir: outDir,
    bundle: true,
    // Code reached only through `await import()` (the service behind `serve`) goes to chunks of its
    // own, so the packages it imports load only when it runs, not in every `syncer` and runner.
    splitting: true,
    platform: 'node',
    format: 'esm',
    // package.json's engines: what the output must run on, whatever Node builds it.
    target: 'node20.18',
    // Blanks and syntax only: the source text stays in the heap as long as the process lives
    // (~3 MB less for the runner). Names stay as written (keepNames, no identifier minifying): they
    // show in logs, errors and heap snapshots.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    // Linked maps for debuggers and `node --enable-source-maps` (which maps stack traces back to
    // the .ts sources). Not on by default: parsing the map costs each process ~9 MB.
    sourcemap: 'linked',
    sourcesContent: false,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [sources],
  });
  for (const warning of result.warnings) console.error(`build warning: ${warning.text}`);
  for (const path of Object.keys(result.metafile.inputs)) {
    if (inputs[path]) continue;
    const hash = hashFile(join(root, path));
    if (hash) inputs[path] = hash;
  }

  const sorted = Object.keys(inputs).sort();
  const id = createHash('sha256')
    .update(sorted.map((path) => `${path}\0${inputs[path]}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const finalDir = join(distDir, id);
  const tmpDir = join(distDir, `${id}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmpDir, { recursive: true });
  for (const file of result.outputFiles) {
    const target = join(tmpDir, relative(outDir, file.path));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.contents);
  }
  try {
    renameSync(tmpDir, finalDir);
  } catch (error) {
    // Another process built the same sources meanwhile: its files are ours byte for byte.
    rmSync(tmpDir, { recursive: true, force: true });
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  }
  const manifest = { id, entries, inputs: Object.fromEntries(sorted.map((path) => [path, inputs[path]])) };
  // The build this one replaces counts as old from now on, not from when it was made.
  const previous = readManifest()?.id;
  if (typeof previous === 'string' && previous !== id) touch(join(distDir, previous));
  const tmpManifest = `${manifestPath}.tmp-${process.pid}`;
  writeFileSync(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmpManifest, manifestPath);
  removeOldBuilds(id);
  return finalDir;
}

function touch(path) {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // Gone already.
  }
}

function removeOldBuilds(current) {
  for (const name of readdirSync(distDir)) {
    if (name === current || name === 'manifest.json') continue;
    const path = join(distDir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > keepOldBuildsMs)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/** The current build's folder, building first when any input changed. */
export async function ensureBuilt() {
  const current = checkBuild();
  return current.dir ?? build();
}

/** Errors that mean dist/ cannot be written here (a read-only install), not that the code is wrong. */
const cannotWrite = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Imports an entry from an up-to-date build and returns its module. Where dist/ cannot be written,
 * runs the TypeScript source through tsx instead: slower and bigger, but the same code.
 * @param {keyof typeof entries} name
 */
export async function load(name) {
  let dir;
  try {
    dir = await ensureBuilt();
  } catch (error) {
    exitOnCompileError(error);
    if (!cannotWrite.has(error?.code)) throw error;
    console.error(
      `warning: cannot write ${distDir} (${error.code}); running the TypeScript sources with tsx`,
    );
    const { register } = await import('tsx/esm/api');
    register();
    return import(pathToFileURL(join(root, entries[name])).href);
  }
  return import(pathToFileURL(join(dir, `${name}.js`)).href);
}

/** esbuild's own errors mean the code does not compile: say where, as tsx would, and exit 1. */
export function exitOnCompileError(error) {
  if (!Array.isArray(error?.errors) || error.errors.length === 0) return;
  for (const message of error.errors) {
    const at = message.location;
    console.error(
      at ? `${at.file}:${at.line}:${at.column}: error: ${message.text}` : `error: ${message.text}`,
    );
  }
  process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const current = process.argv.includes('--force') ? { reason: 'forced' } : checkBuild();
  if (current.dir) {
    console.log(`dist is up to date (${relative(root, current.dir)})`);
  } else {
    const started = performance.now();
    const dir = await build().catch((error) => {
      exitOnCompileError(error);
      throw error;
    });
    console.log(
      `built ${relative(root, dir)} (${current.reason}) in ${Math.round(performance.now() - started)} ms`,
    );
  }
}
