import type { KubernetesObject } from '@kubernetes/client-node';
import { REPO_CONFIG_PATH, RepoConfigError } from '../repo-config.ts';
import { ManifestError } from './render.ts';

/**
 * What one preview may bring (pure): a repository's files are untrusted and every preview shares
 * the worker, so a config, its files and the objects they render are capped, each with an error
 * that says which cap and what to do.
 */
export const APP_LIMITS = {
  /** Bytes of `.github/vcluster-preview.yml`. */
  configBytes: 64 * 1024,
  /** Files read from the repository for one preview (manifests, a chart, values files). */
  files: 500,
  /** Bytes of those files together. */
  fileBytes: 10 * 1024 * 1024,
  /** Objects one preview deploys. */
  objects: 500,
} as const;

/** The config file's text, or a RepoConfigError when it is larger than the cap. */
export function checkConfigSize(text: string): string {
  const bytes = Buffer.byteLength(text);
  if (bytes > APP_LIMITS.configBytes) {
    throw new RepoConfigError([
      {
        line: 1,
        path: '',
        message: `the file is ${bytes} bytes, more than the ${APP_LIMITS.configBytes} a config may have`,
        hint: 'keep manifests in files of their own and name them in manifests:',
      },
    ]);
  }
  return text;
}

/** A running count of the files read for one preview, throwing a ManifestError past a cap. */
export function fileBudget(): (path: string, bytes: number) => void {
  let files = 0;
  let total = 0;
  return (path, bytes) => {
    files++;
    total += bytes;
    if (files > APP_LIMITS.files)
      throw new ManifestError([
        {
          file: REPO_CONFIG_PATH,
          message: `the config names more than ${APP_LIMITS.files} files (at ${path}); name only the folders that hold the preview's manifests`,
        },
      ]);
    if (total > APP_LIMITS.fileBytes)
      throw new ManifestError([
        {
          file: REPO_CONFIG_PATH,
          message: `the files the config names are more than ${APP_LIMITS.fileBytes / 1024 / 1024} MiB together (at ${path}); a preview's manifests and chart should be small`,
        },
      ]);
  };
}

/** The objects, or a ManifestError when there are more than one preview may deploy. */
export function checkObjectCount(objects: KubernetesObject[]): KubernetesObject[] {
  if (objects.length > APP_LIMITS.objects) {
    throw new ManifestError([
      {
        file: REPO_CONFIG_PATH,
        message: `the manifests render ${objects.length} objects, more than the ${APP_LIMITS.objects} one preview may deploy; deploy less into the preview`,
      },
    ]);
  }
  return objects;
}
