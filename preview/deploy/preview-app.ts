import type { KubernetesObject } from '@kubernetes/client-node';
import { parseRepoConfig, type RepoConfig } from '../repo-config.ts';
import { checkConfigSize, checkObjectCount } from './app-limits.ts';
import { renderApp } from './sources.ts';
import { previewHost } from './url.ts';

/**
 * What one version of a repository deploys: its config file parsed, the preview's host name, and the
 * objects rendered from a checkout of it. Shared by a pull request (files read through the GitHub
 * API into a folder) and a working tree (the folder itself), so both pass the same checks.
 */

export interface PreviewApp {
  config: RepoConfig;
  objects: KubernetesObject[];
  /** Host name of the preview (`pr-12-hello-acme.preview.example.com`). */
  host: string;
}

/** What the placeholders of the config and the manifests say about the preview. */
export interface PreviewIdentity {
  pr: { number: number };
  sha: string;
  repo: { name: string; owner: string };
  baseDomain: string;
}

export async function renderPreviewApp(options: {
  /** The config file's text (`.github/vcluster-preview.yml`). */
  configText: string;
  /** Called with the parsed config before rendering, to fetch what it names into `root`. */
  fetch?: (config: RepoConfig) => Promise<void>;
  root: string;
  identity: PreviewIdentity;
  helmBinary?: string | undefined;
}): Promise<PreviewApp> {
  const config = parseRepoConfig(checkConfigSize(options.configText));
  const base = { ...options.identity };
  const host = previewHost(config.urlTemplate, base);
  await options.fetch?.(config);
  const objects = checkObjectCount(
    await renderApp({
      root: options.root,
      config,
      values: { ...base, preview: { host } },
      ...(options.helmBinary ? { helm: options.helmBinary } : {}),
    }),
  );
  return { config, objects, host };
}
