import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Binaries, ProgressReporter } from '../binaries.ts';
import { freePort } from '../net.ts';
import { waitWhileRunning } from '../process.ts';
import { startRegistry } from '../registry.ts';
import { seedImages } from './build.ts';
import { chartImageRecipes } from './chart-recipes.ts';
import { ensureImageNode } from './image-node.ts';
import { type ImageRecipe, imageRecipes, localRepository } from './recipes.ts';

const exec = promisify(execFile);

/** Every image the embedded host serves, the project's own (on its Node.js release) included. */
export async function localImageRecipes(report: ProgressReporter = () => {}): Promise<ImageRecipe[]> {
  return [...imageRecipes, ...chartImageRecipes(undefined, await ensureImageNode(report))];
}

/**
 * `npm run build:images`: builds every local image into the machine-wide registry storage (where
 * the real node's registry serves them from), through a registry of its own for the time of the
 * build, and returns each name with its compressed size.
 */
export async function buildImages(
  binaries: Binaries,
  report: ProgressReporter = () => {},
): Promise<{ ref: string; bytes: number }[]> {
  const dir = await mkdtemp(join(tmpdir(), 'vcp-images-'));
  await mkdir(join(dir, 'logs'));
  const registry = `127.0.0.1:${await freePort()}`;
  const process = await startRegistry({ binaries, address: registry, dir });
  try {
    await waitWhileRunning('the local registry', Date.now() + 30_000, [process], async () => {
      const res = await fetch(`http://${registry}/v2/`).catch(() => undefined);
      return res?.status === 200;
    });
    const recipes = await localImageRecipes(report);
    await seedImages({ registry, recipes, binaries, report });
    const sizes: { ref: string; bytes: number }[] = [];
    for (const ref of recipes.flatMap((recipe) => recipe.refs)) {
      const { repository, tag } = localRepository(ref);
      const { stdout } = await exec(binaries.path('crane'), [
        'manifest',
        '--insecure',
        `${registry}/${repository}:${tag}`,
      ]);
      const manifest = JSON.parse(stdout) as { config: { size: number }; layers: { size: number }[] };
      sizes.push({
        ref,
        bytes: manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0),
      });
    }
    return sizes;
  } finally {
    await process.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
