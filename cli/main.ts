import { cliProgram, parseCommandLine } from './program.ts';

const program = cliProgram();

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

const code = await parseCommandLine(program, process.argv);
if (code !== undefined) process.exitCode = code;
