import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { ExitCode } from './run-cli.ts';

/**
 * The `vcluster-preview` program before its commands are added (they inherit these settings):
 * `--version`, and usage errors that come back as errors to parseCommandLine instead of exiting.
 */
export function cliProgram(): Command {
  return new Command('vcluster-preview')
    .description('A virtual Kubernetes cluster for every pull request')
    .version(packageJson.version, '--version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
}

/**
 * Parses `argv` and runs the command it names. Answers the exit code of what commander stopped at:
 * 0 for `--help` and `--version`, ExitCode.usage (2) for a usage error (unknown command or option,
 * missing argument, bad choice; commander has printed its message); undefined once a command ran
 * (it set process.exitCode itself).
 */
export async function parseCommandLine(program: Command, argv: string[]): Promise<number | undefined> {
  try {
    await program.parseAsync(argv);
    return undefined;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return error.exitCode === ExitCode.ok ? ExitCode.ok : ExitCode.usage;
  }
}
