import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { childEnv } from '../child-env.ts';
import { REPO_CONFIG_PATH, SubstitutionError, type TemplateValues } from '../repo-config.ts';
import { KUSTOMIZATION_FILES, kustomizationRefs } from './kustomize-refs.ts';
import { ManifestError, type ManifestFile, type ManifestProblem } from './render.ts';
import { insideRepo, repoRelative } from './repo-path.ts';
import { runRenderer } from './run-renderer.ts';
import { substituteDeep } from './substitute-deep.ts';

/**
 * `kustomize:` of the repo config: the folder's kustomization and every local base it loads are
 * checked to be in the checkout (remote bases are refused), then `kubectl kustomize` of the pinned
 * kubectl renders it, as `helm template` renders `helm:`.
 */

/** Fetches a path of the repository (a folder with its subfolders) into the checkout, if it exists. */
export type FetchPath = (path: string) => Promise<void>;

const exists = (path: string) =>
  stat(path).then(
    (info) => info,
    () => undefined,
  );

async function kustomizationIn(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    if ((await exists(join(dir, name)))?.isFile()) return join(dir, name);
  }
  return undefined;
}

/**
 * Walks the kustomization in `dir` (repository-relative) and every folder it loads, fetching each
 * one first when `fetch` is given (a pull request's files come through the GitHub API). Throws a
 * ManifestError naming each kustomization file and entry that loads something from outside the
 * checkout (a URL, a git repository, a path out of the repository) or that does not exist.
 */
export async function checkKustomization(root: string, dir: string, fetch?: FetchPath): Promise<void> {
  const problems: ManifestProblem[] = [];
  const realRoot = await realpath(root);
  const seen = new Set<string>();
  const fetched: string[] = [];
  // A folder is fetched with its subfolders: what lies inside one fetched already is there.
  const fetchOnce = async (path: string) => {
    if (!fetch || fetched.some((done) => done === '.' || path === done || path.startsWith(`${done}/`)))
      return;
    fetched.push(path);
    await fetch(path);
  };
  const visit = async (folder: string, from: { file: string; what: string }) => {
    const key = repoRelative(root, folder);
    if (seen.has(key)) return;
    seen.add(key);
    await fetchOnce(key);
    // A symbolic link may not lead kustomize out of the checkout.
    const real = await realpath(folder).catch(() => undefined);
    if (real && !insideRepo(realRoot, real)) {
      problems.push({ file: from.file, message: `${from.what} is a link to outside the repository` });
      return;
    }
    const file = await kustomizationIn(folder);
    if (!file) {
      problems.push({
        file: from.file,
        message: `${from.what}: ${key} has no ${KUSTOMIZATION_FILES.join(', ')}${(await exists(folder)) ? '' : ' (the folder does not exist in the repository)'}`,
      });
      return;
    }
    const name = repoRelative(root, file);
    const refs = kustomizationRefs(await readFile(file, 'utf8'));
    if ('problem' in refs) {
      problems.push({ file: name, message: refs.problem });
      return;
    }
    for (const ref of refs) {
      const what = `${ref.field}: ${ref.target}`;
      if (ref.remote) {
        problems.push({
          file: name,
          message: `${what} is a remote base: a preview is built from the pull request's checkout only; copy it into the repository and list its path`,
        });
        continue;
      }
      const target = insideRepo(root, ref.target, folder);
      if (!target) {
        problems.push({ file: name, message: `${what} is outside the repository` });
        continue;
      }
      // A file inside the kustomization's folder was fetched with it; anything else may be a folder.
      let info = await exists(target);
      if (!info) {
        await fetchOnce(repoRelative(root, target));
        info = await exists(target);
      }
      if (!info) {
        problems.push({ file: name, message: `${what} does not exist in the repository` });
        continue;
      }
      if (info.isDirectory()) await visit(target, { file: name, what });
      else if (!insideRepo(realRoot, await realpath(target)))
        problems.push({ file: name, message: `${what} is a link to outside the repository` });
    }
  };
  const start = insideRepo(root, dir);
  if (!start)
    throw new ManifestError([
      { file: REPO_CONFIG_PATH, message: `kustomize: ${dir} is outside the repository` },
    ]);
  await visit(start, { file: REPO_CONFIG_PATH, what: `kustomize: ${dir}` });
  if (problems.length > 0) throw new ManifestError(problems);
}

export interface KustomizeOptions {
  /** The kubectl binary (the project's pinned one). */
  kubectl: string;
  /** The repository checkout. */
  root: string;
  /** `kustomize:` of the repo config: the folder of the kustomization. */
  dir: string;
  /** Placeholder values, filled into every string of the output. */
  values: TemplateValues;
  timeoutMs?: number;
}

/**
 * `kubectl kustomize` of the configured folder, as one manifest file named `kustomize:<dir>`, after
 * `checkKustomization`. Placeholders are filled into the strings of its output, as into `manifests:`
 * files (the kustomization and its resources are the user's own YAML), but after kustomize has
 * parsed them: kustomize writes `"${{ pr.number }}"` back without quotes, and a text substitution
 * would turn the string into a number. A kustomization kubectl cannot build is a ManifestError with
 * kubectl's words.
 */
export async function kustomizeBuild(options: KustomizeOptions): Promise<ManifestFile> {
  const { root, dir } = options;
  await checkKustomization(root, dir);
  const work = await mkdtemp(join(tmpdir(), 'vcp-kustomize-'));
  try {
    const name = `kustomize:${dir}`;
    const output = await runRenderer(options.kubectl, ['kustomize', insideRepo(root, dir) ?? dir], {
      cwd: root,
      timeoutMs: options.timeoutMs ?? 60_000,
      // The kustomization is the pull request's: no kubeconfig, no credentials, a home of its own.
      env: childEnv(work, { KUBECONFIG: join(work, 'no-kubeconfig') }),
      failed: (said) =>
        new ManifestError([
          {
            file: name,
            message: `kubectl kustomize failed: ${said.replaceAll(`${root}/`, '').replaceAll(root, '.')}`,
          },
        ]),
    });
    const documents = parseAllDocuments(output);
    const objects: unknown[] = [];
    for (const document of Array.isArray(documents) ? documents : []) {
      try {
        objects.push(substituteDeep(document.toJS(), options.values));
      } catch (error) {
        if (!(error instanceof SubstitutionError)) throw error;
        throw new ManifestError([{ file: name, message: error.message }]);
      }
    }
    // JSON is YAML: the objects go on as one document each, with nothing left to fill in.
    return {
      path: name,
      content: objects.map((object) => JSON.stringify(object)).join('\n---\n'),
      substitute: false,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
