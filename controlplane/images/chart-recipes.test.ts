import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureBuilt } from '../build.mjs';
import { versions } from '../versions.ts';
import { recipeDigest } from './build.ts';
import {
  chartImageTags,
  controlPlaneImageRecipes,
  type PackageLock,
  PROJECT_IMAGE,
  type ProjectImageInput,
  projectImageRecipe,
  readProjectImageInput,
  runtimePackages,
  unusedPackageFile,
} from './chart-recipes.ts';
import { imageRecipes } from './recipes.ts';

const chartDir = fileURLToPath(new URL('../../charts/vcluster', import.meta.url));

interface ImageValue {
  repository: string;
  tag: string;
}

describe('the images charts/vcluster names', () => {
  const values = parse(readFileSync(`${chartDir}/values.yaml`, 'utf8')) as {
    controlPlane: Record<'apiServer' | 'controllerManager' | 'etcd', { image: ImageValue }>;
    syncer: { image: ImageValue };
    coredns: { image: ImageValue };
  };
  const appVersion = (parse(readFileSync(`${chartDir}/Chart.yaml`, 'utf8')) as { appVersion: string })
    .appVersion;
  const named = [
    values.controlPlane.apiServer.image,
    values.controlPlane.controllerManager.image,
    values.controlPlane.etcd.image,
    values.coredns.image,
  ].map((image) => `${image.repository}:${image.tag}`);
  const syncerImage = `${values.syncer.image.repository}:${values.syncer.image.tag || appVersion}`;

  it('each has a recipe at the tag the chart uses', () => {
    const refs = [...imageRecipes, ...controlPlaneImageRecipes].flatMap((recipe) => recipe.refs);
    for (const ref of named) expect(refs).toContain(ref);
    expect(syncerImage).toBe(`${PROJECT_IMAGE}:${readProjectImageInput().version}`);
  });

  it('the etcd tag is the pinned etcd release', () => {
    expect(values.controlPlane.etcd.image.tag).toBe(chartImageTags.etcd);
    expect(chartImageTags.etcd).toMatch(/^3\.6\.\d+-0$/);
  });

  it('the control plane binaries sit where upstream images keep them', () => {
    for (const recipe of controlPlaneImageRecipes) {
      const binary = recipe.files.find((file) => file.binary);
      expect(binary?.path).toMatch(/^\/usr\/local\/bin\/(kube-apiserver|kube-controller-manager|etcd)$/);
      expect(binary?.from).toBe(`@bin/${binary?.path.split('/').at(-1)}`);
    }
  });
});

describe('runtimePackages', () => {
  const lock: PackageLock = {
    name: 'app',
    packages: {
      '': { dependencies: { a: '^1', esbuild: '^0', '@kubernetes/client-node': '^1' } },
      'node_modules/a': { version: '1.0.0', dependencies: { b: '^1', '@types/x': '^1' } },
      'node_modules/b': { version: '1.0.0', optionalDependencies: { c: '^1' } },
      'node_modules/a/node_modules/b': { version: '2.0.0' },
      'node_modules/c': { version: '1.0.0', optional: true },
      'node_modules/@types/x': { version: '1.0.0' },
      'node_modules/esbuild': { version: '0.1.0', dependencies: { 'esbuild-only': '^1' } },
      'node_modules/esbuild-only': { version: '1.0.0' },
      'node_modules/@kubernetes/client-node': { version: '1.0.0', dependencies: { ws: '^8' } },
      'node_modules/ws': { version: '8.0.0' },
      'node_modules/vitest': { version: '4.0.0', dev: true },
    },
  };

  it('follows dependencies as Node resolves them, without build tools, bundled packages, types or dev', () => {
    expect(runtimePackages(lock)).toEqual([
      'node_modules/a',
      // a's own b (nested) wins over the top-level one, which nothing else needs.
      'node_modules/a/node_modules/b',
      'node_modules/ws',
    ]);
  });

  it('keeps the top-level copy when nothing nests one', () => {
    const flat: PackageLock = {
      packages: {
        '': { dependencies: { a: '^1' } },
        'node_modules/a': { dependencies: { b: '^1' } },
        'node_modules/b': { optionalDependencies: { c: '^1' } },
        'node_modules/c': { optional: true },
      },
    };
    expect(runtimePackages(flat)).toEqual(['node_modules/a', 'node_modules/b', 'node_modules/c']);
  });

  it('finds what the compiled CLI imports in the real lock', () => {
    const packages = runtimePackages(
      JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as PackageLock,
    );
    for (const needed of ['pino', 'bullmq', 'probot', 'yaml', 'commander', 'ws', 'node-fetch'])
      expect(packages).toContain(`node_modules/${needed}`);
    for (const left of ['esbuild', 'tsx', '@kubernetes/client-node', 'vitest', 'typescript', '@types/node'])
      expect(packages).not.toContain(`node_modules/${left}`);
  });
});

describe('the project image', () => {
  // The image is made of the compiled CLI: build dist/ when a source changed (milliseconds otherwise).
  beforeAll(() => ensureBuilt(), 60_000);

  const input: ProjectImageInput = {
    version: '0.1.0',
    nodeBinary: '/usr/bin/node',
    packageJson: '{"type":"module"}',
    dist: { dir: '/repo/dist/abc', id: 'abc', manifest: '{"id":"abc"}', files: ['cli.js', 'chunk-1.js'] },
    charts: { dir: '/repo/charts', files: ['vcluster/Chart.yaml'] },
    nodeModules: {
      root: '/repo',
      lock: { name: 'app', packages: { 'node_modules/pino': { version: '10.0.0' } } },
      packages: [{ path: 'node_modules/pino', files: ['package.json', 'pino.js'] }],
    },
  };
  const recipe = projectImageRecipe(input);
  const byPath = new Map(recipe.files.map((file) => [file.path, file]));

  it('lays the compiled CLI out as controlplane/build.mjs does, with Node.js and its libraries', () => {
    expect(recipe.refs).toEqual([`${PROJECT_IMAGE}:0.1.0`]);
    expect(byPath.get('/usr/local/bin/node')).toMatchObject({ from: '/usr/bin/node', binary: true });
    expect(byPath.get('/app/dist/abc/cli.js')?.from).toBe('/repo/dist/abc/cli.js');
    expect(byPath.get('/app/charts/vcluster/Chart.yaml')?.from).toBe('/repo/charts/vcluster/Chart.yaml');
    expect(byPath.get('/app/node_modules/pino/pino.js')?.from).toBe('/repo/node_modules/pino/pino.js');
    expect(byPath.get('/app/package.json')?.content).toBe('{"type":"module"}');
  });

  it('has vcluster-preview on PATH, needing no shell, and runs as 65532', () => {
    const entry = byPath.get('/usr/local/bin/vcluster-preview');
    expect(entry?.mode).toBe(0o755);
    expect(entry?.content).toMatch(/^#!\/usr\/local\/bin\/node\n/);
    expect(entry?.content).toContain('import("/app/dist/abc/cli.js")');
    expect(recipe.config).toMatchObject({
      entrypoint: ['/usr/local/bin/vcluster-preview'],
      user: '65532:65532',
    });
    expect(byPath.get('/etc/passwd')?.content).toContain('nonroot:x:65532:65532:');
    expect(recipe.dirs).toContainEqual({ path: '/tmp', mode: 0o1777 });
  });

  it('is built again when the compiled sources or a locked version change', () => {
    const digest = recipeDigest(recipe);
    expect(recipeDigest(projectImageRecipe(input))).toBe(digest);
    expect(
      recipeDigest(projectImageRecipe({ ...input, dist: { ...input.dist, manifest: '{"id":"abc","x":1}' } })),
    ).not.toBe(digest);
    const newer = {
      ...input.nodeModules,
      lock: { name: 'app', packages: { 'node_modules/pino': { version: '10.0.1' } } },
    };
    expect(recipeDigest(projectImageRecipe({ ...input, nodeModules: newer }))).not.toBe(digest);
  });

  it('reads this checkout: the current dist/ build, runtime packages without what Node never loads', () => {
    const real = readProjectImageInput();
    const manifest = JSON.parse(readFileSync(new URL('../../dist/manifest.json', import.meta.url), 'utf8'));
    expect(real.dist.id).toBe(manifest.id);
    expect(real.dist.files).toContain('cli.js');
    expect(real.dist.files.every((file) => file.endsWith('.js'))).toBe(true);
    expect(real.charts.files).toContain('vcluster/values.yaml');
    const files = real.nodeModules.packages.flatMap((pkg) => pkg.files.map((file) => `${pkg.path}/${file}`));
    expect(files.some((file) => unusedPackageFile.test(file))).toBe(false);
    // bullmq runs Lua scripts in Redis: they must be there.
    expect(files.some((file) => file.startsWith('node_modules/bullmq/') && file.endsWith('.lua'))).toBe(true);
  });
});

describe('the Dockerfile, for users with Docker, and the recipe agree', () => {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  const recipe = projectImageRecipe({
    ...readProjectImageInput(),
    nodeBinary: '/usr/bin/node',
  });

  it('on the Node.js release, helm, the binaries setting and the user', () => {
    const major = versions.imageNode.slice(1).split('.')[0];
    expect([...dockerfile.matchAll(/^FROM node:(\d+)-slim/gm)].map((m) => m[1])).toEqual([major, major]);
    expect(dockerfile).toContain(`helm.sh/helm/v4/cmd/helm@${versions.helm}`);
    expect(recipe.files.map((f) => f.path)).toContain('/usr/local/bin/helm');
    expect(dockerfile).toContain('ENV VCLUSTER_PREVIEW_BINARIES=/usr/local/bin');
    expect(recipe.config.env).toContain('VCLUSTER_PREVIEW_BINARIES=/usr/local/bin');
    expect(dockerfile).toContain('USER 65532:65532');
    expect(recipe.config.user).toBe('65532:65532');
  });
});
