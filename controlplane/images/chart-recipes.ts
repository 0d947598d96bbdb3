/**
 * The images `charts/vcluster` names, built on this machine like the others in recipes.ts: the
 * upstream control plane (kube-apiserver, kube-controller-manager, etcd) from the binaries of the
 * control-plane cache, and the project's own image (the CLI: `pki`, `syncer`, `serve`) from the
 * compiled `dist/`, the production packages and the machine's Node.js.
 *
 * The control plane recipes are fixed. The project's image is made of what the checkout holds at
 * the moment it is seeded (the current `dist/` build), so it is a function: call it when the
 * registry is seeded, after `controlplane/build.mjs` has built `dist/`.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { versions } from '../versions.ts';
import { ImageBuildError } from './build.ts';
import type { ImageFile, ImageRecipe } from './recipes.ts';

const defaultRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The user the chart runs every container as (distroless's `nonroot`). */
const NONROOT = 65532;

/** The project's image, as the chart's `syncer.image` names it (the tag is the chart's appVersion). */
export const PROJECT_IMAGE = 'ghcr.io/vcluster-preview/vcluster-preview';

/** Image tags of the chart's control plane, from the pinned versions. */
export const chartImageTags = {
  kubernetes: versions.kubernetes,
  /** registry.k8s.io/etcd tags are the release without its `v` and a build suffix, e.g. `3.6.16-0`. */
  etcd: `${versions.etcd.slice(1)}-0`,
} as const;

const etcFiles = (user?: { name: string; uid: number }): ImageFile[] => [
  {
    path: '/etc/passwd',
    content: `root:x:0:0:root:/root:/sbin/nologin\n${user ? `${user.name}:x:${user.uid}:${user.uid}:${user.name}:/home/${user.name}:/sbin/nologin\n` : ''}nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n`,
  },
  {
    path: '/etc/group',
    content: `root:x:0:\n${user ? `${user.name}:x:${user.uid}:\n` : ''}nogroup:x:65534:\n`,
  },
  { path: '/etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
];

/**
 * One static Go binary at `/usr/local/bin/NAME`, where the upstream image keeps it (the chart and
 * kubeadm's manifests run it by name as their `command`). Like upstream, no user is set: the pod's
 * securityContext chooses one.
 */
function staticBinaryImage(
  ref: string,
  binary: 'kube-apiserver' | 'kube-controller-manager' | 'etcd',
): ImageRecipe {
  return {
    refs: [ref],
    files: [{ path: `/usr/local/bin/${binary}`, from: `@bin/${binary}`, binary: true }, ...etcFiles()],
    dirs: [{ path: '/tmp', mode: 0o1777 }],
    config: { entrypoint: [`/usr/local/bin/${binary}`] },
  };
}

/** The upstream control plane images at the tags the chart's values.yaml names. */
export const controlPlaneImageRecipes: ImageRecipe[] = [
  staticBinaryImage(`registry.k8s.io/kube-apiserver:${chartImageTags.kubernetes}`, 'kube-apiserver'),
  staticBinaryImage(
    `registry.k8s.io/kube-controller-manager:${chartImageTags.kubernetes}`,
    'kube-controller-manager',
  ),
  {
    ...staticBinaryImage(`registry.k8s.io/etcd:${chartImageTags.etcd}`, 'etcd'),
    // Upstream's default data folders (the chart passes --data-dir on its volume).
    dirs: [
      { path: '/tmp', mode: 0o1777 },
      { path: '/var/etcd', mode: 0o700 },
      { path: '/var/lib/etcd', mode: 0o700 },
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// The project's image

/** An entry of package-lock.json's `packages`. */
export interface LockedPackage {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

export interface PackageLock {
  name?: string;
  version?: string;
  lockfileVersion?: number;
  packages: Record<string, LockedPackage>;
}

/**
 * Production dependencies the image leaves out, and why: the build tools (the image runs the
 * compiled `dist/` directly and never compiles), and the Kubernetes client, which controlplane/build.mjs
 * compiles into the bundle (its own dependencies are still imported from node_modules).
 */
export const notInImage = {
  esbuild: 'build tool: the image runs the compiled dist/ and never builds',
  tsx: 'build tool: only needed to run the TypeScript sources',
  '@kubernetes/client-node': 'compiled into dist/ (controlplane/build.mjs bundledPackages)',
} as const;

/** Where node would find package `name` required from the package at lock path `from` (`''`: the root). */
function resolveLocked(lock: PackageLock, name: string, from: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return undefined;
    const at = base.lastIndexOf('/node_modules/');
    base = at < 0 ? '' : base.slice(0, at);
  }
}

/**
 * The lock paths (`node_modules/a`, `node_modules/a/node_modules/b`) of every package the compiled
 * CLI can load at run time: the root's production dependencies but those in `notInImage`, the
 * dependencies of the bundled ones, and everything they depend on (optional and peer dependencies
 * included when the lock has them). Type-only `@types/*` packages are left out. Sorted.
 */
export function runtimePackages(lock: PackageLock): string[] {
  const root = lock.packages[''] ?? {};
  const excluded = new Set(Object.keys(notInImage));
  const queue: (string | undefined)[] = Object.keys(root.dependencies ?? {})
    .filter((name) => !excluded.has(name))
    .map((name) => resolveLocked(lock, name, ''));
  for (const bundled of ['@kubernetes/client-node']) {
    const at = resolveLocked(lock, bundled, '');
    const entry = at ? lock.packages[at] : undefined;
    for (const name of Object.keys(entry?.dependencies ?? {})) queue.push(resolveLocked(lock, name, at!));
  }
  const seen = new Set<string>();
  while (queue.length > 0) {
    const path = queue.pop();
    if (!path || seen.has(path) || /(^|\/)node_modules\/@types\//.test(path)) continue;
    const entry = lock.packages[path];
    if (!entry || entry.dev) continue;
    seen.add(path);
    const names = Object.keys({
      ...entry.dependencies,
      ...entry.optionalDependencies,
      ...entry.peerDependencies,
    });
    for (const name of names) queue.push(resolveLocked(lock, name, path));
  }
  return [...seen].sort();
}

/**
 * Files of a package that Node never loads: type declarations, TypeScript sources, source maps,
 * documentation, and prebuilt addons of the Bare runtime (`*.bare`). Everything else is kept
 * (JavaScript, JSON, native `.node` addons, bullmq's Lua scripts, licences).
 */
export const unusedPackageFile = /\.(d\.[cm]?ts|[cm]?ts|tsx|map|md|markdown|bare|tsbuildinfo)$/i;

/** What the project's image is made of, read from a checkout by `readProjectImageInput`. */
export interface ProjectImageInput {
  /** The image tag: the chart's appVersion, which is the project's version. */
  version: string;
  /** The Node.js binary of this machine (its shared libraries come with it). */
  nodeBinary: string;
  /** package.json (its `"type": "module"` makes dist/'s files ES modules). */
  packageJson: string;
  /** The current dist/ build: its id, its manifest, and its files (relative to dist/<id>/). */
  dist: { dir: string; id: string; manifest: string; files: string[] };
  /** charts/: folder and files (relative to it): the `serve` command installs charts/vcluster. */
  charts: { dir: string; files: string[] };
  /** node_modules: the checkout's folder, the lock paths to copy and, per path, its files. */
  nodeModules: { root: string; lock: PackageLock; packages: { path: string; files: string[] }[] };
}

/**
 * The project's image, as the Dockerfile describes it but without a base image: Node.js at
 * /usr/local/bin/node with its libraries, the compiled CLI in /app/dist/<id>/ (as controlplane/build.mjs
 * lays it out, so that its paths to /app/charts hold), the packages it loads in /app/node_modules,
 * /app/charts, helm, and `vcluster-preview` on PATH, which the chart's containers run as their command.
 * Runs as 65532. The recipe carries dist/'s manifest (a hash of every compiled source) and the
 * locked versions of the packages, so a change to either builds the image again.
 */
export function projectImageRecipe(input: ProjectImageInput): ImageRecipe {
  const app = '/app';
  const distDir = `${app}/dist/${input.dist.id}`;
  const included = new Set(input.nodeModules.packages.map((p) => p.path));
  // npm's own record of an installed tree (node_modules/.package-lock.json): what is in the image.
  const hiddenLock = {
    name: input.nodeModules.lock.name,
    version: input.nodeModules.lock.version,
    lockfileVersion: 3,
    requires: true,
    packages: Object.fromEntries(
      Object.entries(input.nodeModules.lock.packages).filter(([path]) => included.has(path)),
    ),
  };
  const packageFiles = input.nodeModules.packages.flatMap((pkg) =>
    pkg.files.map(
      (file): ImageFile => ({
        path: `${app}/${pkg.path}/${file}`,
        from: join(input.nodeModules.root, pkg.path, file),
      }),
    ),
  );
  return {
    refs: [`${PROJECT_IMAGE}:${input.version}`],
    files: [
      { path: '/usr/local/bin/node', from: input.nodeBinary, binary: true },
      // The kubernetes provider installs charts/vcluster with helm: the image carries it, so that a
      // worker never builds binaries (VCLUSTER_PREVIEW_BINARIES below).
      { path: '/usr/local/bin/helm', from: '@bin/helm', binary: true },
      {
        // A script, not a shell wrapper: the image has no shell. Node runs an extensionless file as
        // CommonJS, whose import() loads the ES module build.
        path: '/usr/local/bin/vcluster-preview',
        content: `#!/usr/local/bin/node\n// The vcluster-preview CLI, compiled by controlplane/build.mjs.\nimport(${JSON.stringify(`${distDir}/cli.js`)});\n`,
        mode: 0o755,
      },
      { path: `${app}/package.json`, content: input.packageJson },
      { path: `${app}/dist/manifest.json`, content: input.dist.manifest },
      ...input.dist.files.map((file) => ({ path: `${distDir}/${file}`, from: join(input.dist.dir, file) })),
      ...input.charts.files.map((file) => ({
        path: `${app}/charts/${file}`,
        from: join(input.charts.dir, file),
      })),
      { path: `${app}/node_modules/.package-lock.json`, content: `${JSON.stringify(hiddenLock, null, 2)}\n` },
      ...packageFiles,
      ...etcFiles({ name: 'nonroot', uid: NONROOT }),
    ],
    dirs: [
      { path: '/tmp', mode: 0o1777 },
      { path: `/home/nonroot`, mode: 0o755 },
    ],
    config: {
      entrypoint: ['/usr/local/bin/vcluster-preview'],
      cmd: ['--help'],
      user: `${NONROOT}:${NONROOT}`,
      workdir: app,
      env: [
        'PATH=/usr/local/bin:/usr/bin:/bin',
        'NODE_ENV=production',
        'HOME=/home/nonroot',
        'VCLUSTER_PREVIEW_BINARIES=/usr/local/bin',
      ],
      exposedPorts: ['8080/tcp'],
    },
  };
}

/** Every file under `dir` (relative, `/`-separated, sorted), skipping folders named in `skipDirs`. */
function filesUnder(dir: string, keep: (file: string) => boolean, skipDirs: string[] = []): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) {
        if (!skipDirs.includes(entry.name)) walk(path);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && keep(entry.name)) {
        out.push(relative(dir, path).split(sep).join('/'));
      }
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Reads what the project's image is made of from the checkout at `root`, with the Node.js binary it
 * runs (images/image-node.ts; this machine's own when left out).
 */
export function readProjectImageInput(
  root: string = defaultRoot,
  nodeBinary: string = realpathSync(process.execPath),
): ProjectImageInput {
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  let manifest: string;
  try {
    manifest = read('dist/manifest.json');
  } catch {
    throw new ImageBuildError(
      `the project's image is made of the compiled CLI in ${join(root, 'dist')}, and there is none: run "node controlplane/build.mjs" first`,
    );
  }
  const { id } = JSON.parse(manifest) as { id: string };
  const distDir = join(root, 'dist', id);
  const packageJson = read('package.json');
  const lock = JSON.parse(read('package-lock.json')) as PackageLock;
  const nodeModulesRoot = root;
  const packages = runtimePackages(lock).map((path) => {
    try {
      return {
        path,
        // Nested node_modules are packages of their own, listed separately when needed.
        files: filesUnder(join(nodeModulesRoot, path), (name) => !unusedPackageFile.test(name), [
          'node_modules',
        ]),
      };
    } catch (error) {
      // An optional package for another platform is in the lock but not installed.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && lock.packages[path]?.optional)
        return { path, files: [] };
      throw new ImageBuildError(
        `the project's image needs ${path}, which is missing from ${nodeModulesRoot}: run "npm ci" (${(error as Error).message})`,
      );
    }
  });
  return {
    version: (JSON.parse(packageJson) as { version: string }).version,
    nodeBinary,
    packageJson,
    dist: {
      dir: distDir,
      id,
      manifest,
      files: filesUnder(distDir, (name) => name.endsWith('.js')),
    },
    charts: { dir: join(root, 'charts'), files: filesUnder(join(root, 'charts'), () => true) },
    nodeModules: {
      root: nodeModulesRoot,
      lock,
      packages: packages.filter((p) => p.files.length > 0),
    },
  };
}

/**
 * Every image `charts/vcluster` runs, built from this checkout: the control plane's and the
 * project's. (CoreDNS, which the chart also names, is in recipes.ts.) Reads dist/ and
 * node_modules: call it when seeding, after dist/ is built.
 */
export function chartImageRecipes(root: string = defaultRoot, nodeBinary?: string): ImageRecipe[] {
  return [...controlPlaneImageRecipes, projectImageRecipe(readProjectImageInput(root, nodeBinary))];
}
