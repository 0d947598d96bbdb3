import { watch } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readUrlStyle } from '../app/service-config.ts';
import type { PreviewUrlStyle } from '../preview/deploy/index.ts';
import type { ProviderName } from '../preview/provider.ts';
import { providerFor } from '../preview/providers/index.ts';
import type { PreviewStep } from '../preview/steps.ts';
import { checkTreeName, defaultTreeName, treePreviewRef } from '../preview/tree-name.ts';
import {
  deleteTreePreview,
  previewTree,
  type TreePreview,
  type TreePreviewDeps,
  TreePreviewError,
} from '../preview/tree-preview.ts';
import { hostStatus } from './host.ts';
import { formatState, type OutputFormat, outputOption } from './output.ts';
import { type CliContext, runCli } from './run-cli.ts';
import {
  contextOption,
  type HostFlags,
  kubeconfigOption,
  providerOption,
  resolveHost,
} from './vcluster-commands.ts';

/**
 * `vcluster-preview preview [DIR]`: a preview of a working tree through the steps a pull request's
 * goes through (config checks, deploy, expose), to check a config before pushing, like
 * `okteto deploy` or `tilt up`. `--watch` deploys again when a file changes.
 */

interface PreviewFlags extends HostFlags {
  name?: string;
  down?: boolean;
  watch?: boolean;
  output?: OutputFormat;
  provider: ProviderName;
  baseDomain: string;
}

/** A changed file waits this long for others before the tree deploys again (an editor saves several). */
const WATCH_DEBOUNCE_MS = 400;

/**
 * Scheme and port of the preview's URL, as the service reads them: PREVIEW_URL_SCHEME and
 * PREVIEW_URL_PORT when set, else the embedded host's ingress controller when that is the host,
 * else https on its own port.
 */
export async function treeUrlStyle(
  env: Record<string, string | undefined>,
  usingEmbedded: boolean,
): Promise<PreviewUrlStyle | undefined> {
  if (env.PREVIEW_URL_SCHEME?.trim() || env.PREVIEW_URL_PORT?.trim()) return readUrlStyle(env);
  if (!usingEmbedded) return undefined;
  const status = await hostStatus();
  if (!status.ingressUrl) return undefined;
  return { scheme: 'http', port: Number(new URL(status.ingressUrl).port || 80) };
}

/** One line per step as it ends: `✔ Deploy (3.1s)`, `✖ Deploy (5.0s)`. */
export function stepPrinter(print: (line: string) => void): (steps: PreviewStep[]) => void {
  const shown = new Set<string>();
  return (steps) => {
    for (const step of steps) {
      if ((step.status !== 'done' && step.status !== 'failed') || shown.has(step.name)) continue;
      shown.add(step.name);
      const seconds = ((step.durationMs ?? 0) / 1000).toFixed(1);
      print(`${step.status === 'done' ? '✔' : '✖'} ${step.name} (${seconds}s)`);
    }
  };
}

/** Runs one preview of the tree and prints where it is served. */
export async function previewOnce(
  deps: TreePreviewDeps,
  options: { dir: string; name: string; retryHint?: string; output?: OutputFormat },
  log: (line: string) => void,
): Promise<TreePreview> {
  const result = await previewTree(deps, {
    dir: options.dir,
    name: options.name,
    onSteps: options.output ? undefined : stepPrinter((line) => console.error(line)),
    report: (message) => console.error(`  ${message}`),
    ...(options.retryHint ? { retryHint: options.retryHint } : {}),
  });
  log(
    formatState(result, options.output, () =>
      result.url
        ? `preview of ${options.dir} (${result.sha}) is ready at ${result.url}`
        : `preview of ${options.dir} (${result.sha}) is deployed; it has no expose: in its config, so no URL`,
    ),
  );
  return result;
}

/** Deploys again whenever a file of `dir` changes (not .git), one run at a time, until Ctrl-C. */
function watchTree(dir: string, deploy: () => Promise<unknown>, log: (line: string) => void): Promise<void> {
  return new Promise((done) => {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> | undefined;
    let again = false;
    const redeploy = async () => {
      if (running) {
        again = true;
        return;
      }
      do {
        again = false;
        running = deploy().catch((error) => log(`error: ${(error as Error).message}`));
        await running;
        running = undefined;
      } while (again);
    };
    const watcher = watch(dir, { recursive: true }, (_event, file) => {
      if (file && (file === '.git' || file.startsWith('.git/'))) return;
      clearTimeout(timer);
      timer = setTimeout(() => void redeploy(), WATCH_DEBOUNCE_MS);
    });
    log(`watching ${dir} for changes (Ctrl-C to stop)`);
    const stop = () => {
      clearTimeout(timer);
      watcher.close();
      process.off('SIGINT', stop).off('SIGTERM', stop);
      void (running ?? Promise.resolve()).then(() => done());
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });
}

export function registerPreviewCommand(program: Command): void {
  program
    .command('preview [dir]')
    .description(
      "preview a working tree: its .github/vcluster-preview.yml deployed into a virtual cluster the way a pull request's is",
    )
    .option('--name <name>', 'name of the preview (default: the folder name)')
    .option('--down', 'delete the preview of this tree instead')
    .option('--watch', 'deploy again when a file changes, until Ctrl-C')
    .addOption(outputOption())
    .addOption(providerOption())
    .option('--base-domain <domain>', 'preview host names end in it', 'preview.localhost')
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action((dirArgument: string | undefined, flags: PreviewFlags) =>
      runCli(async (context: CliContext) => {
        const dir = resolve(dirArgument ?? '.');
        const name = checkTreeName(flags.name ?? defaultTreeName(dir));
        const resolved = await resolveHost(flags, (message) => console.error(message));
        const provider = providerFor(flags.provider, resolved);
        if (flags.down) {
          await context.step(`delete the preview of ${dir}`, () => deleteTreePreview(provider, name));
          context.log(`preview ${treePreviewRef(name).name} deleted`);
          return;
        }
        const urlStyle = await treeUrlStyle(process.env, resolved.source.embedded);
        const deps: TreePreviewDeps = {
          provider,
          hostKubeconfig: resolved.hostKubeconfig,
          baseDomain: flags.baseDomain,
          helmBinary: resolved.binaries.path('helm'),
          ...(urlStyle ? { urlStyle } : {}),
        };
        const output = flags.output;
        if (!flags.watch) {
          await previewOnce(deps, { dir, name, output }, context.log);
          return;
        }
        const once = () => previewOnce(deps, { dir, name, output, retryHint: 'save again' }, context.log);
        // A first failure is shown and watched like a later one: the next save may fix it.
        await once().catch((error) => {
          if (!(error instanceof TreePreviewError)) throw error;
          context.log(`error: ${error.message}`);
        });
        await watchTree(dir, once, context.log);
      }),
    );
}
