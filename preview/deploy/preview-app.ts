import type { KubernetesObject } from '@kubernetes/client-node';
import { parseRepoConfig, type RepoConfig } from '../repo-config.ts';
import { checkConfigSize, checkObjectCount } from './app-limits.ts';
import { resolveVariables } from './resolve-variables.ts';
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
  /** What the workflow set for `${{ variables.NAME }}` (the Action's `variables:`); the rest keep their defaults. */
  variables?: Readonly<Record<string, string>> | undefined;
  helmBinary?: string | undefined;
}): Promise<PreviewApp> {
  const config = parseRepoConfig(checkConfigSize(options.configText));
  // Before anything is fetched or made: a name the config does not declare fails like a bad config.
  const variables = resolveVariables(config.variables, options.variables);
  const base = { ...options.identity };
  const host = previewHost(config.urlTemplate, base);
  await options.fetch?.(config);
  const objects = checkObjectCount(
    await renderApp({
      root: options.root,
      config,
      // Only declared names become placeholders, so with none `${{ variables.x }}` is unknown.
      values: { ...base, preview: { host }, ...(Object.keys(variables).length > 0 ? { variables } : {}) },
      ...(options.helmBinary ? { helm: options.helmBinary } : {}),
    }),
  );
  return { config, objects, host };
}
