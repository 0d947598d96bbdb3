import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The CLI as a user starts it: `node cli/vcluster-preview.js`. */
export const CLI = join(import.meta.dirname, '..', '..', 'cli', 'vcluster-preview.js');

/**
 * A long-running CLI command (`up`, `preview --watch`) as a child process: what it printed so far
 * (stdout and stderr together, as a terminal shows them) and its exit code once it exits.
 */
export function spawnCli(
  args: string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv },
): { child: ChildProcess; output(): string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { ...options, stdio: 'pipe' });
  let output = '';
  const collect = (chunk: Buffer | string) => {
    output += chunk;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}
