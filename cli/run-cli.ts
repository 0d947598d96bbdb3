/** What a command body gets: a way to print and a way to time a named step. */
export interface CliContext {
  log(message: string): void;
  step<T>(name: string, work: () => Promise<T>): Promise<T>;
}

/** Exit codes scripts can rely on. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Runs one command body: prints each step with its time, a summary at the end, and turns an
 * error into its message on stderr and a non-zero exit code.
 */
export async function runCli(
  body: (context: CliContext) => Promise<void>,
  options: { propagateExitCode?: boolean } = {},
): Promise<void> {
  const started = Date.now();
  const timings: string[] = [];
  const context: CliContext = {
    log: (message) => console.log(message),
    async step(name, work) {
      const stepStarted = Date.now();
      const result = await work();
      const seconds = ((Date.now() - stepStarted) / 1000).toFixed(1);
      timings.push(`${name} ${seconds}s`);
      console.error(`✔ ${name} (${seconds}s)`);
      return result;
    },
  };
  try {
    await body(context);
    if (timings.length > 1)
      console.error(`done in ${((Date.now() - started) / 1000).toFixed(1)}s: ${timings.join(', ')}`);
    // A command that ran a child (connect -- cmd) keeps the child's exit code.
    if (!options.propagateExitCode || process.exitCode === undefined) process.exitCode = ExitCode.ok;
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = ExitCode.failed;
  }
}
