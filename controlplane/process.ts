import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

/** Processes still running in this Node process, ended on exit so a crash leaks nothing. */
const running = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.killNow();
  });
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * One server process in a process group of its own, its output in a log file. `stop()` ends the
 * whole group: SIGTERM, then SIGKILL if it has not exited in time.
 */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(options: ManagedProcessOptions) {
    installExitHook();
    this.name = options.name;
    this.logFile = options.logFile;
    const log = openSync(options.logFile, 'a');
    try {
      this.child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : 0);
        running.delete(this);
        resolve(this.exitCode);
      });
      this.child.on('error', () => {
        this.exitCode = -1;
        running.delete(this);
        resolve(-1);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exitCode !== undefined;
  }

  /** The last lines of the log, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.pid < 0) return;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    // Children that outlived the leader still belong to the group.
    this.signalGroup('SIGKILL');
  }

  killNow(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}

/** Pids of the processes whose command line contains `text` (e.g. a cluster's own folder). */
export function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Whether a process with this pid exists (one we may not signal still counts). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Polls `check` until it holds; fails when one of `processes` exits meanwhile (the thing waited for
 * will never come) or when `deadline` (epoch ms) passes.
 */
export async function waitWhileRunning(
  what: string,
  deadline: number,
  processes: readonly ManagedProcess[],
  check: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    if (await check()) return;
    const dead = processes.find((p) => p.hasExited);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** For a create that may find its object there already (a restarted cluster): 409 is fine. */
export function ignoreAlreadyExists(error: unknown): void {
  if ((error as { code?: number }).code !== 409) throw error;
}
