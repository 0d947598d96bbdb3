import { afterEach, describe, expect, it, vi } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { registerCommands } from './commands.ts';
import { cliProgram, parseCommandLine } from './program.ts';

/** The whole program, built in-process as main.ts builds it, with what it prints kept. */
async function run(...args: string[]) {
  const printed = { out: '', err: '' };
  const program = cliProgram().configureOutput({
    writeOut: (text) => {
      printed.out += text;
    },
    writeErr: (text) => {
      printed.err += text;
    },
  });
  registerCommands(program);
  const code = await parseCommandLine(program, ['node', 'vcluster-preview', ...args]);
  return { code, ...printed };
}

const syncerFlags = ['--name', 'vc', '--host-namespace', 'ns', '--virtual-kubeconfig', '/nonexistent'];

describe('exit codes and messages of the command line', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('--version prints the package version and exits 0', async () => {
    expect(await run('--version')).toEqual({ code: 0, out: `${packageJson.version}\n`, err: '' });
  });

  it.each<{ args: string[]; usage: string }>([
    { args: ['--help'], usage: 'Usage: vcluster-preview [options] [command]' },
    { args: ['create', '--help'], usage: 'Usage: vcluster-preview create [options] <name>' },
    { args: ['help', 'list'], usage: 'Usage: vcluster-preview list [options]' },
    { args: ['host', 'status', '-h'], usage: 'Usage: vcluster-preview host status [options]' },
  ])('$args prints help to stdout and exits 0', async ({ args, usage }) => {
    const result = await run(...args);
    expect(result.code).toBe(0);
    expect(result.out).toContain(usage);
    expect(result.err).toBe('');
  });

  it.each<{ args: string[]; message: string }>([
    { args: ['frobnicate'], message: "error: unknown command 'frobnicate'" },
    { args: ['list', '--no-such-flag'], message: "error: unknown option '--no-such-flag'" },
    { args: ['create'], message: "error: missing required argument 'name'" },
    {
      args: ['list', '-o', 'xml'],
      message:
        "error: option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are json, yaml.",
    },
    { args: ['host', 'status', '--output', 'table'], message: "argument 'table' is invalid" },
    { args: ['create', 'demo', '--provider', 'aws'], message: "argument 'aws' is invalid" },
    { args: ['serve', '--role', 'everything'], message: "argument 'everything' is invalid" },
    {
      args: ['syncer', '--name', 'vc'],
      message: "error: required option '--host-namespace <namespace>' not specified",
    },
    // Checked by the command itself, after commander: still a usage error.
    {
      args: ['syncer', ...syncerFlags, '--enforce-pod-security', 'strict'],
      message: 'error: --enforce-pod-security: "strict" is not a Pod Security Standard',
    },
    {
      args: ['syncer', ...syncerFlags, '--kubeconfig', '/a', '--host-kubeconfig', '/b'],
      message: 'error: --host-kubeconfig is the old name of --kubeconfig',
    },
  ])('$args is a usage error: exit 2 with what was wrong and the usage', async ({ args, message }) => {
    const result = await run(...args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).toContain('Usage: vcluster-preview');
    expect(result.out).toBe('');
  });

  it('no command at all: the usage on stderr, exit 2', async () => {
    const result = await run();
    expect(result.code).toBe(2);
    expect(result.err).toContain('Usage: vcluster-preview [options] [command]');
  });

  it('a VCLUSTER_PROVIDER that is no provider is a usage error naming the variable', async () => {
    vi.stubEnv('VCLUSTER_PROVIDER', 'aws');
    const result = await run('create', 'demo');
    expect(result.code).toBe(2);
    expect(result.err).toContain("value 'aws' from env 'VCLUSTER_PROVIDER' is invalid");
  });
});
