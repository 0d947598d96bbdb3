import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Binaries } from '../binaries.ts';
import { type ImageRecipe, localRepository } from './recipes.ts';

const exec = promisify(execFile);

export class ImageBuildError extends Error {
  override name = 'ImageBuildError';
}

/** The label that records which recipe built an image: a changed recipe builds it again. */
const RECIPE_LABEL = 'dev.vcluster-preview.recipe';

export function recipeDigest(recipe: ImageRecipe): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}

async function run(command: string, args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new ImageBuildError(`${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

/**
 * Makes sure every recipe's images are in the registry at `registry` (host:port), building those
 * that are missing or were built by an older recipe. Returns the refs it built.
 */
export async function seedImages(options: {
  registry: string;
  recipes: ImageRecipe[];
  binaries: Binaries;
  report?: (message: string) => void;
}): Promise<string[]> {
  const built: string[] = [];
  const crane = options.binaries.path('crane');
  for (const recipe of options.recipes) {
    const digest = recipeDigest(recipe);
    const targets = recipe.refs.map((ref) => {
      const { repository, tag } = localRepository(ref);
      return { ref, local: `${options.registry}/${repository}:${tag}` };
    });
    const current = await Promise.all(targets.map((t) => labelOf(crane, t.local)));
    if (current.every((label) => label === digest)) continue;
    options.report?.(`building image ${recipe.refs.join(', ')}`);
    const [first, ...rest] = targets;
    await buildImage(crane, recipe, digest, first!.local, options.binaries);
    for (const target of rest) await run(crane, ['copy', '--insecure', first!.local, target.local]);
    built.push(...recipe.refs);
  }
  return built;
}

async function labelOf(crane: string, ref: string): Promise<string | undefined> {
  try {
    const { stdout } = await exec(crane, ['config', '--insecure', ref]);
    return (JSON.parse(stdout) as { config?: { Labels?: Record<string, string> } }).config?.Labels?.[
      RECIPE_LABEL
    ];
  } catch {
    return undefined; // not there yet
  }
}

async function buildImage(
  crane: string,
  recipe: ImageRecipe,
  digest: string,
  target: string,
  binaries: Binaries,
): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'vcp-image-'));
  try {
    const rootfs = join(work, 'rootfs');
    await mkdir(rootfs);
    const debian = recipe.debianPackages?.length
      ? await unpackDebianPackages(recipe.debianPackages, work)
      : '';
    const source = (from: string) =>
      from.startsWith('@bin/')
        ? binaries.path(from.slice(5) as never)
        : from.startsWith('@debian/')
          ? join(debian, from.slice(8))
          : from;
    for (const dir of recipe.dirs ?? []) {
      await mkdir(join(rootfs, dir.path), { recursive: true });
      await chmod(join(rootfs, dir.path), dir.mode);
    }
    for (const file of recipe.files) {
      const to = join(rootfs, file.path);
      await mkdir(dirname(to), { recursive: true });
      if (file.link) await symlink(file.link, to);
      else if (file.content !== undefined) await writeFile(to, file.content, { mode: file.mode ?? 0o644 });
      else if (file.from) {
        const from = source(file.from);
        await cp(from, to, { dereference: true });
        await chmod(to, file.mode ?? (file.binary ? 0o755 : 0o644));
        if (file.binary) await copySharedLibraries(from, rootfs);
      }
    }
    // One reproducible layer: sorted names, no times or owners of this machine.
    const layer = join(work, 'layer.tar');
    await run('tar', [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-C',
      rootfs,
      '-cf',
      layer,
      ...(await readdir(rootfs)),
    ]);
    await run(crane, ['append', '--insecure', '-f', layer, '-t', target]);
    const { config } = recipe;
    await run(crane, [
      'mutate',
      '--insecure',
      target,
      `--entrypoint=${config.entrypoint.join(',')}`,
      ...(config.cmd ? [`--cmd=${config.cmd.join(',')}`] : []),
      ...(config.user ? ['--user', config.user] : []),
      ...(config.workdir ? ['--workdir', config.workdir] : []),
      ...(config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']).flatMap(
        (e) => ['--env', e],
      ),
      ...(config.exposedPorts ?? []).flatMap((p) => ['--exposed-ports', p]),
      '--label',
      `${RECIPE_LABEL}=${digest}`,
    ]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Downloads Debian packages (never installs them) and unpacks them into one folder. */
async function unpackDebianPackages(packages: string[], work: string): Promise<string> {
  const downloads = join(work, 'debs');
  const unpacked = join(work, 'debian');
  await mkdir(downloads);
  await mkdir(unpacked);
  try {
    await run('apt-get', ['download', '-q', ...packages], downloads);
  } catch {
    // The package lists may be missing on a fresh machine.
    await run('apt-get', ['update', '-qq']);
    await run('apt-get', ['download', '-q', ...packages], downloads);
  }
  for (const deb of await readdir(downloads)) await run('dpkg-deb', ['-x', join(downloads, deb), unpacked]);
  return unpacked;
}

/** The shared libraries a dynamically linked binary loads, copied to the same paths in the image. */
async function copySharedLibraries(binary: string, rootfs: string): Promise<void> {
  let output: string;
  try {
    output = (await exec('ldd', [binary])).stdout;
  } catch {
    return; // static: ldd says "not a dynamic executable" and fails
  }
  for (const line of output.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (!match) continue;
    const lib = match[1]!;
    const to = join(rootfs, lib);
    await mkdir(dirname(to), { recursive: true });
    await cp(lib, to, { dereference: true });
  }
}
