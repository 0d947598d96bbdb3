import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Binaries } from '../binaries.ts';
import { ImageBuildError } from './build.ts';
import { localRepository } from './recipes.ts';

const exec = promisify(execFile);

/**
 * Pushes an image (a `docker save` / OCI tarball) into the embedded host's registry under the name
 * the manifests use (`ghcr.io/acme/app:sha`), so they run on the real node unchanged, as they would
 * with the image CI pushed. Returns the reference in the local registry.
 */
export async function pushImage(options: {
  binaries: Binaries;
  /** host:port of the local registry (`host status` → `registry`). */
  registry: string;
  tarball: string;
  name: string;
}): Promise<string> {
  if (!existsSync(options.tarball)) {
    throw new ImageBuildError(
      `${options.tarball} does not exist: give an image tarball (docker save, or an OCI archive)`,
    );
  }
  const { repository, tag } = localRepository(options.name);
  const target = `${options.registry}/${repository}:${tag}`;
  try {
    await exec(options.binaries.path('crane'), ['push', '--insecure', options.tarball, target]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new ImageBuildError(
      `could not push ${options.tarball} as ${options.name}: ${stderr || (error as Error).message}`,
    );
  }
  return target;
}
