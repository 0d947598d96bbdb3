import { type Command, Option } from 'commander';
import { ensureBinaries } from '../controlplane/index.ts';
import { hostDown, hostStatus, hostUp, runHost } from './host.ts';
import { registerPkiCommand } from './pki-command.ts';
import { runCli } from './run-cli.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerSyncerCommand } from './syncer-command.ts';
import { up } from './up.ts';
import { registerVirtualClusterCommands } from './vcluster-commands.ts';

/** Every command but the program itself, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  program
    .command('up')
    .description(
      'the main job on local defaults: the embedded host cluster and Redis, then the GitHub App service on them',
    )
    .option('--nodes <count>', 'number of kwok fake nodes of the host cluster', '2')
    .option(
      '--env-file <path>',
      'settings of the GitHub App (APP_ID, PRIVATE_KEY_PATH, WEBHOOK_SECRET…)',
      '.env',
    )
    .action((options: { nodes: string; envFile: string }) =>
      runCli((context) => up(context, { nodes: Number(options.nodes), envFile: options.envFile })),
    );

  const host = program
    .command('host')
    .description('the embedded host cluster (local control plane with kwok nodes)');

  host
    .command('up')
    .description('start the embedded host cluster in the background and print how to reach it')
    .option('--nodes <count>', 'number of kwok fake nodes', '2')
    .action((options: { nodes: string }) =>
      runCli(async ({ step, log }) => {
        const binaries = await step('control-plane binaries', () => ensureBinaries(log));
        const status = await step('host cluster', () =>
          hostUp({ nodes: Number(options.nodes), report: log }),
        );
        log('');
        log(`The host cluster is running (API server ${status.server}); Redis at ${status.redisUrl}.`);
        log(`  export KUBECONFIG=${status.kubeconfig}`);
        log(`  export PATH=${binaries.binDir}:$PATH`);
        log('  kubectl get nodes');
        log('Stop both with: vcluster-preview host down');
      }),
    );

  host
    .command('down')
    .description('stop the embedded host cluster')
    .action(() =>
      runCli(async ({ log }) => {
        log((await hostDown()) ? 'host cluster stopped' : 'no host cluster was running');
      }),
    );

  host
    .command('status')
    .description('whether the embedded host cluster runs, and its kubeconfig')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((options: { output: string }) =>
      runCli(async ({ log }) => {
        const status = await hostStatus();
        if (options.output === 'json') log(JSON.stringify(status, null, 2));
        else
          log(status.running ? `running: ${status.server}\nkubeconfig: ${status.kubeconfig}` : 'not running');
      }),
    );

  host
    .command('build')
    .description('build the control-plane binaries into the machine-wide cache (no-op when cached)')
    .action(() =>
      runCli(async ({ log }) => {
        const binaries = await ensureBinaries(log);
        log(`control-plane binaries: ${binaries.binDir}`);
      }),
    );

  host
    .command('run', { hidden: true })
    .description('run the host cluster in the foreground (what `host up` starts in the background)')
    .option('--nodes <count>', 'number of kwok fake nodes', '2')
    .action((options: { nodes: string }) => runHost({ nodes: Number(options.nodes) }));

  registerVirtualClusterCommands(program);
  registerSyncerCommand(program);
  registerPkiCommand(program);
  registerServeCommand(program);
}
