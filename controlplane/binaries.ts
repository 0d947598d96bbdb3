import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive } from './process.ts';
import { type BinaryName, binariesByModule, type GoModule, kwokStageFiles, versions } from './versions.ts';

const goRoot = join(dirname(fileURLToPath(import.meta.url)), 'go');

/** Where the binaries of one pinned set live, shared by every clone and run on this machine. */
export interface Binaries {
  dir: string;
  binDir: string;
  path(name: BinaryName): string;
  kwokStages: string[];
}

export class ControlPlaneBuildError extends Error {
  override name = 'ControlPlaneBuildError';
}

export type ProgressReporter = (message: string) => void;

/** Machine-wide cache root; `VCLUSTER_PREVIEW_CACHE` overrides it. */
export function cacheRoot(): string {
  if (process.env.VCLUSTER_PREVIEW_CACHE) return process.env.VCLUSTER_PREVIEW_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'vcluster-preview', 'controlplane');
}

/** Machine-wide state (the embedded host cluster, local virtual clusters); `VCLUSTER_PREVIEW_HOME` moves it. */
export function stateHome(): string {
  return (
    process.env.VCLUSTER_PREVIEW_HOME ||
    join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'vcluster-preview')
  );
}

let knownCacheKey: Promise<string> | undefined;

/**
 * The cache key: pinned versions plus a digest of the wrapper modules (with their own Go code) and
 * build flags. Hashed once per process: the wrapper modules do not change under a running process,
 * and every `ensureBinaries()` (each kustomize render, each helm lookup) asks for it.
 */
export function cacheKey(): Promise<string> {
  knownCacheKey ??= digestOfModules().catch((error: unknown) => {
    knownCacheKey = undefined;
    throw error;
  });
  return knownCacheKey;
}

async function digestOfModules(): Promise<string> {
  const hash = createHash('sha256');
  for (const module of Object.keys(binariesByModule).sort()) {
    const goFiles = (await readdir(join(goRoot, module))).filter((file) => file.endsWith('.go')).sort();
    for (const file of ['go.mod', 'go.sum', ...goFiles]) {
      hash.update(`${module}/${file}\n`);
      hash.update(await readFile(join(goRoot, module, file)));
    }
  }
  hash.update(JSON.stringify(buildFlags('kubernetes')));
  const digest = hash.digest('hex').slice(0, 12);
  return `k8s-${versions.kubernetes}_etcd-${versions.etcd}_kwok-${versions.kwok}_helm-${versions.helm}_${digest}`;
}

function binariesAt(dir: string): Binaries {
  const binDir = join(dir, 'bin');
  return {
    dir,
    binDir,
    path: (name) => join(binDir, name),
    kwokStages: kwokStageFiles.map((file) => join(dir, 'kwok-stages', file.split('/').at(-1)!)),
  };
}

/**
 * Binaries installed by an image (`VCLUSTER_PREVIEW_BINARIES`, e.g. `/usr/local/bin`): a production
 * process uses what its image carries and never compiles. A binary the image lacks fails where it is
 * run, with the path it looked at.
 */
function prebuiltBinaries(): Binaries | undefined {
  const dir = process.env.VCLUSTER_PREVIEW_BINARIES;
  if (!dir) return undefined;
  return { dir, binDir: dir, path: (name) => join(dir, name), kwokStages: [] };
}

/** Returns the cached binaries, or undefined when they have not been built on this machine. */
export async function findBinaries(): Promise<Binaries | undefined> {
  const prebuilt = prebuiltBinaries();
  if (prebuilt) return prebuilt;
  const dir = join(cacheRoot(), await cacheKey());
  return existsSync(join(dir, 'manifest.json')) ? binariesAt(dir) : undefined;
}

/**
 * Returns the cached binaries, building them first when missing. A lock directory keeps two
 * processes (two test runs, a test run and the demo) from building at once; a lock whose owner
 * died is taken over.
 */
export async function ensureBinaries(report: ProgressReporter = () => {}): Promise<Binaries> {
  const found = await findBinaries();
  if (found) return found;
  const root = cacheRoot();
  const key = await cacheKey();
  await mkdir(root, { recursive: true });
  const lock = join(root, `${key}.lock`);
  await acquireLock(lock, report);
  try {
    const again = await findBinaries();
    if (again) return again;
    const dir = join(root, key);
    const staging = `${dir}.building-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(join(staging, 'bin'), { recursive: true });
    const started = Date.now();
    for (const module of Object.keys(binariesByModule) as GoModule[]) {
      await buildModule(module, join(staging, 'bin'), report);
    }
    await copyKwokStages(join(staging, 'kwok-stages'));
    await writeFile(
      join(staging, 'manifest.json'),
      `${JSON.stringify({ versions, builtAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) }, null, 2)}\n`,
    );
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    report(`control-plane binaries ready in ${dir} (${Math.round((Date.now() - started) / 1000)}s)`);
    return binariesAt(dir);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function acquireLock(lock: string, report: ProgressReporter): Promise<void> {
  let waitingSince: number | undefined;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
    const ownerAge = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    // A lock without a pid file for a while, or whose owner is gone, was left by a crash.
    if ((!owner && ownerAge > 10_000) || (owner && !isAlive(owner))) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (waitingSince === undefined) {
      waitingSince = Date.now();
      report(`waiting for process ${owner || '?'} that is building the control-plane binaries`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** Upstream's release flags: static, stripped, and stamped with the real version. */
function buildFlags(module: GoModule): string[] {
  const ldflags = ['-s', '-w'];
  // The one-process control plane is built from the same Kubernetes packages: same version stamp.
  if (module === 'kubernetes' || module === 'vcontrolplane') {
    const [major, minor] = versions.kubernetes.slice(1).split('.');
    for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
      ldflags.push(
        `-X ${pkg}.gitVersion=${versions.kubernetes}`,
        `-X ${pkg}.gitMajor=${major}`,
        `-X ${pkg}.gitMinor=${minor}`,
        `-X ${pkg}.gitTreeState=clean`,
        `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
      );
    }
  }
  if (module === 'helm') ldflags.push(`-X helm.sh/helm/v4/internal/version.version=${versions.helm}`);
  if (module === 'traefik')
    ldflags.push(`-X github.com/traefik/traefik/v3/pkg/version.Version=${versions.traefik}`);
  if (module === 'storage') ldflags.push(`-X main.VERSION=${versions.localPathProvisioner}`);
  return ['-trimpath', '-tags', 'selinux,notest,grpcnotrace', '-ldflags', ldflags.join(' ')];
}

async function buildModule(module: GoModule, outDir: string, report: ProgressReporter): Promise<void> {
  const packages = Object.entries(binariesByModule[module]);
  report(
    `building ${packages.map(([name]) => name).join(', ')} (${module} module); a first build takes minutes`,
  );
  // With one package `-o` names the file (etcd's main package would otherwise be named `server`).
  const output = packages.length === 1 ? join(outDir, packages[0]![0]) : `${outDir}/`;
  const args = ['build', '-v', ...buildFlags(module), '-o', output, ...packages.map(([, pkg]) => pkg)];
  let compiled = 0;
  let lastReport = Date.now();
  const started = Date.now();
  const tail: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', args, {
      cwd: join(goRoot, module),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onOutput = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        // `go build -v` prints one line per package it compiles: a fair progress count.
        compiled++;
        tail.push(line);
        if (tail.length > 40) tail.shift();
      }
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        report(`  ${module}: ${compiled} packages compiled, ${Math.round((Date.now() - started) / 1000)}s`);
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('error', (error) =>
      reject(new ControlPlaneBuildError(`cannot run go (${error.message}); install Go 1.26 or newer`)),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new ControlPlaneBuildError(
            `go build of the ${module} module failed (exit ${code}) in ${join(goRoot, module)}:\n${tail.join('\n')}`,
          ),
        );
    });
  });
  for (const [name] of packages) {
    if (!existsSync(join(outDir, name))) throw new ControlPlaneBuildError(`go build did not produce ${name}`);
  }
  report(`  ${module}: done in ${Math.round((Date.now() - started) / 1000)}s`);
}

async function copyKwokStages(targetDir: string): Promise<void> {
  const moduleDir = await goOutput(['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], 'kubernetes');
  await mkdir(targetDir, { recursive: true });
  for (const file of kwokStageFiles) {
    await copyFile(join(moduleDir, file), join(targetDir, file.split('/').at(-1)!));
  }
}

function goOutput(args: string[], module: GoModule): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd: join(goRoot, module), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new ControlPlaneBuildError(`go ${args.join(' ')} failed`)),
    );
  });
}
