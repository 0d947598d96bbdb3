import { Command } from 'commander';

const program = new Command('vcluster-preview')
  .description('A virtual Kubernetes cluster for every pull request')
  .showHelpAfterError();

// `syncer` runs as long as its virtual cluster does (the chart's syncer container, bench/syncer), so
// it loads its own command only: not the certificates, providers, host cluster and service modules
// the other commands import, and the packages behind them that it never calls (~20 MB).
if (process.argv[2] === 'syncer') {
  const { registerSyncerCommand } = await import('./syncer-command.ts');
  registerSyncerCommand(program);
} else {
  const { registerCommands } = await import('./commands.ts');
  registerCommands(program);
}

await program.parseAsync(process.argv);
