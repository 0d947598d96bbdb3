import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, relative, sep } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ensureBinaries } from '../../controlplane/index.ts';
import { childEnv } from '../child-env.ts';
import {
  REPO_CONFIG_PATH,
  type RepoConfig,
  SubstitutionError,
  substitute,
  type TemplateValues,
} from '../repo-config.ts';
import { kustomizeBuild } from './kustomize.ts';
import { ManifestError, type ManifestFile, renderManifests } from './render.ts';
import { insideRepo } from './repo-path.ts';
import { runRenderer } from './run-renderer.ts';
import { withSeedHook } from './seed-job.ts';
import { substituteDeep } from './substitute-deep.ts';

/**
 * Where the app's manifests come from, in a checkout of the repository: the files and folders of
 * `manifests:`, `helm template` of the chart of `helm:`, and `kubectl kustomize` of `kustomize:`.
 */

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** `path` inside `root`, or a ManifestError: the config may not point outside the repository. */
function inside(root: string, path: string): string {
  const full = insideRepo(root, path);
  if (!full)
    throw new ManifestError([{ file: REPO_CONFIG_PATH, message: `${path} is outside the repository` }]);
  return full;
}

/**
 * The manifest files of `paths` (repository-relative, from `manifests:`): a file as it is, a folder's
 * `.yaml`, `.yml` and `.json` files in name order (not its subfolders, like `kubectl apply -f`).
 * Paths in the result are repository-relative, for messages.
 */
export async function readManifestFiles(root: string, paths: readonly string[]): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const problems: ManifestError['problems'] = [];
  for (const path of paths) {
    const full = inside(root, path);
    const info = await stat(full).catch(() => undefined);
    if (!info) {
      problems.push({
        file: REPO_CONFIG_PATH,
        message: `manifests: ${path} does not exist in the repository`,
      });
      continue;
    }
    const entries = info.isDirectory()
      ? (await readdir(full, { withFileTypes: true }))
          .filter((entry) => entry.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase()))
          .map((entry) => join(full, entry.name))
          .sort()
      : [full];
    if (entries.length === 0) {
      problems.push({
        file: REPO_CONFIG_PATH,
        message: `manifests: ${path} has no .yaml, .yml or .json files (subfolders are not read; list them too)`,
      });
    }
    for (const entry of entries) {
      files.push({
        path: relative(root, entry).split(sep).join('/'),
        content: await readFile(entry, 'utf8'),
      });
    }
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return files;
}

export interface HelmTemplateOptions {
  /** The helm binary (the project's pinned one). */
  helm: string;
  /** The repository checkout. */
  root: string;
  /** `helm:` of the repo config. */
  chart: NonNullable<RepoConfig['helm']>;
  /** Placeholder values, filled into `values` and the values files. */
  values: TemplateValues;
  /** Release name (default `preview`). */
  releaseName?: string;
  /** Release namespace (default `default`). */
  namespace?: string;
  timeoutMs?: number;
}

/**
 * `helm template` of the configured chart, CRDs included, as one manifest file named
 * `helm:<chart>`. Placeholders are filled into the config's values and the values files (the
 * user's), not into the chart's output. A chart helm cannot render is a ManifestError with helm's words.
 */
export async function helmTemplate(options: HelmTemplateOptions): Promise<ManifestFile> {
  const { chart, root } = options;
  const chartDir = inside(root, chart.chart);
  const work = await mkdtemp(join(tmpdir(), 'vcp-helm-'));
  try {
    const args = [
      'template',
      options.releaseName ?? 'preview',
      chartDir,
      '--namespace',
      options.namespace ?? 'default',
      '--include-crds',
    ];
    const problems: ManifestError['problems'] = [];
    for (const [index, file] of chart.valuesFiles.entries()) {
      const text = await readFile(inside(root, file), 'utf8').catch(() => undefined);
      if (text === undefined) {
        problems.push({
          file: REPO_CONFIG_PATH,
          message: `helm.valuesFiles: ${file} does not exist in the repository`,
        });
        continue;
      }
      try {
        const target = join(work, `values-${index}.yaml`);
        await writeFile(target, substitute(text, options.values));
        args.push('--values', target);
      } catch (error) {
        if (!(error instanceof SubstitutionError)) throw error;
        problems.push({ file, message: error.message });
      }
    }
    try {
      const target = join(work, 'values-config.json');
      await writeFile(target, JSON.stringify(substituteDeep(chart.values, options.values)));
      args.push('--values', target);
    } catch (error) {
      if (!(error instanceof SubstitutionError)) throw error;
      problems.push({ file: REPO_CONFIG_PATH, message: `helm.values: ${error.message}` });
    }
    if (problems.length > 0) throw new ManifestError(problems);
    const output = await runRenderer(options.helm, args, {
      cwd: root,
      timeoutMs: options.timeoutMs ?? 60_000,
      // The chart is the pull request's: none of the service's environment reaches helm.
      env: childEnv(work, {
        HELM_CACHE_HOME: join(work, 'cache'),
        HELM_CONFIG_HOME: join(work, 'config'),
        HELM_DATA_HOME: join(work, 'data'),
      }),
      failed: (said) =>
        new ManifestError([
          {
            file: `helm:${chart.chart}`,
            message: `helm template failed: ${said.replaceAll(chartDir, chart.chart)}`,
          },
        ]),
    });
    return { path: `helm:${chart.chart}`, content: output, substitute: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface RenderAppOptions {
  /** The repository checkout, at the commit being deployed. */
  root: string;
  config: RepoConfig;
  /** Placeholder values: `pr.number`, `sha`, `preview.host`, `repo.name`, `repo.owner`. */
  values: TemplateValues;
  /** The helm binary, needed when the config has `helm:`. */
  helm?: string;
  /** Helm release name (default `preview`). */
  releaseName?: string;
  /** The kubectl binary that builds `kustomize:` (default: the project's pinned one). */
  kubectl?: string;
}

/** The file of `seed.job`, or a ManifestError saying it is not in the repository. */
async function readSeedFile(root: string, path: string): Promise<ManifestFile> {
  const content = await readFile(inside(root, path), 'utf8').catch(() => undefined);
  if (content === undefined)
    throw new ManifestError([
      { file: REPO_CONFIG_PATH, message: `seed.job: ${path} does not exist in the repository` },
    ]);
  return { path, content };
}

/**
 * Every object the config deploys, rendered (`renderManifests`): the `manifests:` files, then the
 * `helm:` chart, then the `kustomize:` build, then the `seed.job` Job as a post-install hook. Throws
 * a ManifestError for anything the user has to fix.
 */
export async function renderApp(options: RenderAppOptions): Promise<KubernetesObject[]> {
  const { config, root, values } = options;
  const files = config.manifests ? await readManifestFiles(root, config.manifests) : [];
  if (config.helm) {
    if (!options.helm)
      throw new Error(
        `the config of ${basename(root)} uses helm:, but no helm binary was given to render it`,
      );
    files.push(
      await helmTemplate({
        helm: options.helm,
        root,
        chart: config.helm,
        values,
        releaseName: options.releaseName,
      }),
    );
  }
  if (config.kustomize) {
    files.push(
      await kustomizeBuild({
        kubectl: options.kubectl ?? (await ensureBinaries()).path('kubectl'),
        root,
        dir: config.kustomize,
        values,
      }),
    );
  }
  if (config.seed) files.push(await readSeedFile(root, config.seed.job));
  const objects = renderManifests(files, values, config);
  return config.seed ? withSeedHook(objects, config.seed.job) : objects;
}
