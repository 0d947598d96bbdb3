import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  AUTHOR_FIX_HINTS,
  authorFix,
  hostLabel,
  type PreviewApp,
  type PreviewUrlStyle,
  renderPreviewApp,
  rollOutApp,
} from './deploy/index.ts';
import { exposeApp } from './expose-app.ts';
import { previewHostAccess } from './host-access.ts';
import { hostHolder } from './host-holder.ts';
import { annotations, labels, type VirtualClusterProvider } from './provider.ts';
import { REPO_CONFIG_PATH } from './repo-config.ts';
import { type PreviewStep, STEPS, StepTracker } from './steps.ts';
import { syncerSaw } from './syncer-saw.ts';
import { treePreviewRef, treeVersion } from './tree-name.ts';

const run = promisify(execFile);

/**
 * A preview of a working tree (`vcluster-preview preview DIR`): the steps a pull request's preview
 * goes through (read config, virtual cluster, deploy, expose), with the same checks, timings and
 * errors, but the folder's files as the source instead of a commit read through GitHub. Its host
 * namespace is marked with the tree's name and folder, and its last run (state, steps, URL, error)
 * goes on it too, so the status page shows it like a pull request's.
 */

export interface TreePreviewDeps {
  provider: VirtualClusterProvider;
  /** Admin kubeconfig (YAML) of the host cluster. */
  hostKubeconfig: string;
  /** Preview host names end in it. */
  baseDomain: string;
  urlStyle?: PreviewUrlStyle;
  ingressClassName?: string;
  helmBinary?: string;
  /** How long a new virtual cluster may take to serve its API (default 120 s). */
  readyTimeoutMs?: number;
  /** How long the app may take to roll out (default 5 min). */
  rolloutTimeoutMs?: number;
}

export interface TreePreviewOptions {
  dir: string;
  /** The tree's name (checked with checkTreeName). */
  name: string;
  /** Each change of the step checklist, as it happens. */
  onSteps?: (steps: PreviewStep[]) => void;
  report?: (message: string) => void;
  /** How to try again, for the hint of a failure (default: run the command again). */
  retryHint?: string;
}

/** What the last run of a tree's preview left on its host namespace (`annotations.lastRun`). */
export interface TreeRun {
  state: 'ready' | 'failed';
  sha: string;
  steps: PreviewStep[];
  url?: string;
  error?: { message: string; hint?: string };
  finishedAt: string;
}

export interface TreePreview {
  name: string;
  namespace: string;
  sha: string;
  url?: string;
  steps: PreviewStep[];
}

/** A step of a tree's preview failed: what failed, why, and what to do. */
export class TreePreviewError extends Error {
  override name = 'TreePreviewError';
  constructor(
    readonly step: string,
    readonly detail: string,
    readonly hint: string,
    readonly steps: PreviewStep[],
    options?: ErrorOptions,
  ) {
    super(`${step} failed: ${detail}\n${hint}`, options);
  }
}

/** The tree's git commit and whether its files differ from it; undefined outside git. */
async function gitState(dir: string): Promise<{ commit: string; changed: boolean } | undefined> {
  try {
    const { stdout: commit } = await run('git', ['-C', dir, 'rev-parse', 'HEAD']);
    const { stdout: status } = await run('git', ['-C', dir, 'status', '--porcelain', '--', '.']);
    return { commit: commit.trim(), changed: status.trim() !== '' };
  } catch {
    return undefined;
  }
}

async function readTreeApp(
  dir: string,
  name: string,
  sha: string,
  deps: TreePreviewDeps,
): Promise<PreviewApp> {
  const configPath = join(dir, REPO_CONFIG_PATH);
  const configText = await readFile(configPath, 'utf8').catch(() => undefined);
  if (configText === undefined) {
    throw new TreePreviewError(
      STEPS.config,
      `${configPath} does not exist`,
      'add it, saying what to deploy (manifests:, helm:) and what to expose (expose: service and port)',
      [],
    );
  }
  // The URL template is filled in as for pull request 0 of `local/<name>`, so a template is checked
  // the same way and the host has the same shape.
  return renderPreviewApp({
    configText,
    root: dir,
    identity: { pr: { number: 0 }, sha, repo: { name, owner: 'local' }, baseDomain: deps.baseDomain },
    helmBinary: deps.helmBinary,
  });
}

/** Makes or updates the preview of the tree at `options.dir`; answers where it is served. */
export async function previewTree(deps: TreePreviewDeps, options: TreePreviewOptions): Promise<TreePreview> {
  const dir = resolve(options.dir);
  const ref = treePreviewRef(options.name);
  const report = options.report ?? (() => {});
  const host = previewHostAccess(deps.hostKubeconfig, deps.urlStyle);
  const sha = treeVersion(await gitState(dir));
  const tracker = new StepTracker([STEPS.config, STEPS.cluster, STEPS.deploy, STEPS.expose], async (steps) =>
    options.onSteps?.(steps),
  );
  /** The run's outcome on the namespace, in one patch with whatever else it changes (`more`). */
  const record = (run: Omit<TreeRun, 'finishedAt' | 'sha'>, more: Record<string, string> = {}) =>
    host.annotate(ref.namespace, {
      ...more,
      [annotations.lastRun]: JSON.stringify({ ...run, sha, finishedAt: new Date().toISOString() }),
    });
  let createdHere = false;
  try {
    const app = await tracker.run(STEPS.config, () => readTreeApp(dir, options.name, sha, deps));
    const virtual = await tracker.run(STEPS.cluster, async () => {
      const previews = await deps.provider.list();
      const digest = hostLabel(app.host);
      const holder = hostHolder(previews, app.host, ref.namespace);
      if (holder) {
        throw new TreePreviewError(
          STEPS.cluster,
          `the preview host ${app.host} is already served by virtual cluster ${holder.name} (namespace ${holder.namespace})`,
          'give this tree another name with --name',
          [],
        );
      }
      createdHere = !previews.some((preview) => preview.namespace === ref.namespace);
      await deps.provider.create({
        ...ref,
        labels: { [labels.tree]: options.name, [labels.host]: digest },
        annotations: {
          [annotations.treeDir]: dir,
          [annotations.commit]: sha,
          [annotations.lastActivity]: new Date().toISOString(),
          [annotations.ttl]: app.config.ttl,
          [annotations.sleepAfter]: app.config.sleepAfter,
        },
        allowedHostSuffix: app.host,
        // A working tree is previewed as its pull request would be: restricted unless it lowers it.
        isolation: { podSecurityStandard: app.config.podSecurity ?? 'restricted' },
        report,
      });
      return host.connect(deps.provider, ref, deps.readyTimeoutMs ?? 120_000);
    });
    await tracker.run(STEPS.deploy, () =>
      rollOutApp(virtual, app.objects, {
        commit: sha,
        timeoutMs: deps.rolloutTimeoutMs ?? 300_000,
        report,
      }),
    );
    const url = await tracker.run(STEPS.expose, () =>
      exposeApp(host, ref, app, {
        ingressClassName: deps.ingressClassName,
        labels: { [labels.tree]: options.name },
      }),
    );
    const steps = tracker.snapshot();
    // The commit goes on only when it serves: create leaves an existing namespace's marks as they were.
    await record({ state: 'ready', steps, ...(url ? { url } : {}) }, { [annotations.commit]: sha });
    return { ...ref, sha, steps, ...(url ? { url } : {}) };
  } catch (error) {
    const step = tracker.failed ?? STEPS.config;
    const fix = authorFix(error);
    const again = options.retryHint ?? 'run `vcluster-preview preview` again';
    const hint =
      error instanceof TreePreviewError
        ? `${error.hint}, then ${again}.`
        : fix
          ? `${AUTHOR_FIX_HINTS[fix]}, then ${again}.`
          : `If it keeps failing, \`vcluster-preview preview --down\` and start again (${again}).`;
    const detail = error instanceof TreePreviewError ? error.detail : (error as Error).message;
    const seen =
      step === STEPS.deploy
        ? await syncerSaw(deps.provider, ref, (readError) =>
            report(`could not read the syncer log: ${(readError as Error).message}`),
          )
        : '';
    const steps = tracker.snapshot();
    const present = (await deps.provider.get(ref).catch(() => undefined)) !== undefined;
    // No half-made environment: a virtual cluster this run made for files that cannot work goes.
    if (fix && createdHere) await deps.provider.delete(ref);
    else if (present)
      await record({
        state: 'failed',
        steps,
        error: { message: `${step} failed: ${detail}${seen}`, hint },
      }).catch((recordError) => report(`could not record the failure: ${(recordError as Error).message}`));
    throw new TreePreviewError(step, `${detail}${seen}`, hint, steps, { cause: error });
  }
}

/** Deletes a tree's preview and everything it made; gone already is fine. */
export async function deleteTreePreview(provider: VirtualClusterProvider, name: string): Promise<void> {
  await provider.delete(treePreviewRef(name));
}
