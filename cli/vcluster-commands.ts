import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { type Binaries, ensureBinaries } from '../controlplane/index.ts';
import {
  labels,
  namespaceFor,
  type ProviderName,
  VirtualClusterError,
  type VirtualClusterInfo,
  type VirtualClusterProvider,
} from '../preview/provider.ts';
import { providerFor, providerOf } from '../preview/providers/index.ts';
import { hostStatus } from './host.ts';
import { type CliContext, runCli } from './run-cli.ts';

export interface HostFlags {
  kubeconfig?: string;
  namespace?: string;
}

interface Resolved {
  hostKubeconfig: string;
  binaries: Binaries;
}

/** The host cluster: `--kubeconfig`, else the embedded one when `host up` runs it. */
export async function resolveHost(flags: HostFlags, log: (m: string) => void): Promise<Resolved> {
  const binaries = await ensureBinaries(log);
  if (flags.kubeconfig) {
    try {
      return { hostKubeconfig: await readFile(flags.kubeconfig, 'utf8'), binaries };
    } catch (error) {
      throw new VirtualClusterError(
        `cannot read --kubeconfig ${flags.kubeconfig}: ${(error as Error).message}`,
      );
    }
  }
  const status = await hostStatus();
  if (status.running && status.kubeconfig)
    return { hostKubeconfig: await readFile(status.kubeconfig, 'utf8'), binaries };
  throw new VirtualClusterError(
    'no host cluster reachable: start the embedded one with `vcluster-preview host up`, or pass --kubeconfig FILE',
  );
}

async function existingProvider(name: string, flags: HostFlags, context: CliContext) {
  const resolved = await resolveHost(flags, context.log);
  const provider = await providerOf({ name, namespace: flags.namespace }, resolved);
  if (!provider) {
    throw new VirtualClusterError(
      `virtual cluster ${name} not found in namespace ${namespaceFor({ name, namespace: flags.namespace })} (see \`vcluster-preview list\`)`,
    );
  }
  return { provider, resolved };
}

function age(createdAt: string | undefined): string {
  if (!createdAt) return '-';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(createdAt)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

function table(clusters: VirtualClusterInfo[]): string {
  const rows = [
    ['NAME', 'NAMESPACE', 'PROVIDER', 'STATE', 'AGE', 'REPO', 'PR'],
    ...clusters.map((c) => [
      c.name,
      c.namespace,
      c.provider,
      c.state,
      age(c.createdAt),
      c.labels[labels.repo] ?? '',
      c.labels[labels.pullRequest] ?? '',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Runs a command to its end and returns its exit code (128 + signal number when a signal ended it,
 * as shells report). Ctrl-C reaches the command from the terminal; SIGTERM and SIGHUP sent to us are
 * passed on. Either way we outlive the command, so the caller can clean up after it.
 */
function runCommand([command, ...args]: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done) => {
    const child = spawn(command!, args, { stdio: 'inherit', env });
    const passOn = (signal: NodeJS.Signals) => child.kill(signal);
    const ignore = () => {};
    process.on('SIGINT', ignore).on('SIGTERM', passOn).on('SIGHUP', passOn);
    const finish = (code: number) => {
      process.off('SIGINT', ignore).off('SIGTERM', passOn).off('SIGHUP', passOn);
      done(code);
    };
    child.on('error', (error) => {
      console.error(`error: cannot run ${command}: ${error.message}`);
      finish(127);
    });
    child.on('exit', (code, signal) => finish(code ?? (signal ? 128 + osConstants.signals[signal] : 1)));
  });
}

/** Writes the virtual kubeconfig to a file or stdout, or runs a command with it. */
async function connect(
  provider: VirtualClusterProvider,
  name: string,
  namespace: string | undefined,
  binaries: Binaries,
  options: { print?: boolean; output?: string; command?: string[]; log: (m: string) => void },
): Promise<number> {
  const kubeconfig = await provider.kubeconfig({ name, namespace });
  if (options.print) {
    process.stdout.write(kubeconfig);
    return 0;
  }
  if (options.command && options.command.length > 0) {
    // The file holds admin credentials: it lives only as long as the command.
    const dir = await mkdtemp(join(tmpdir(), 'vcp-connect-'));
    try {
      const file = join(dir, 'kubeconfig.yaml');
      await writeFile(file, kubeconfig, { mode: 0o600 });
      return await runCommand(options.command, {
        ...process.env,
        KUBECONFIG: file,
        PATH: `${binaries.binDir}:${process.env.PATH}`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const file = resolve(options.output ?? 'kubeconfig.yaml');
  await writeFile(file, kubeconfig, { mode: 0o600 });
  options.log(`virtual cluster ${name}: kubeconfig written to ${file}`);
  options.log(`  export KUBECONFIG=${file}`);
  return 0;
}

const hostOptions = (command: Command) =>
  command
    .option('-n, --namespace <namespace>', 'host namespace (default: vcluster-NAME)')
    .option('--kubeconfig <file>', 'host cluster kubeconfig (default: the embedded host cluster)');

/** create, delete, pause, resume, list, connect: the vcluster CLI's verbs. */
export function registerVirtualClusterCommands(program: Command): void {
  hostOptions(program.command('create <name>').description('create a virtual cluster (a no-op if it exists)'))
    .addOption(
      new Option('--provider <provider>', 'where it runs').choices(['local', 'kubernetes']).default('local'),
    )
    .option('--connect <bool>', 'write ./kubeconfig.yaml for it afterwards', 'true')
    .option('--allowed-host-suffix <domain>', 'ingress hosts the virtual cluster may use')
    .action(
      (
        name: string,
        flags: HostFlags & { provider: ProviderName; connect: string; allowedHostSuffix?: string },
      ) =>
        runCli(async (context) => {
          const resolved = await resolveHost(flags, context.log);
          const provider = providerFor(flags.provider, resolved);
          const cluster = await context.step(`create ${name}`, () =>
            provider.create({
              name,
              namespace: flags.namespace,
              allowedHostSuffix: flags.allowedHostSuffix,
              report: (m) => console.error(`  ${m}`),
            }),
          );
          context.log(
            `virtual cluster ${cluster.name} is ${cluster.state} in namespace ${cluster.namespace} (${cluster.provider})`,
          );
          if (flags.connect !== 'false') {
            await connect(provider, name, flags.namespace, resolved.binaries, { log: context.log });
          }
        }),
    );

  hostOptions(
    program.command('delete <name>').description('delete a virtual cluster and everything it made'),
  ).action((name: string, flags: HostFlags) =>
    runCli(async (context) => {
      const resolved = await resolveHost(flags, context.log);
      const provider = await providerOf({ name, namespace: flags.namespace }, resolved);
      // Nothing labelled: maybe a create that died before labelling; the local provider cleans its folder too.
      await context.step(`delete ${name}`, () =>
        (provider ?? providerFor('local', resolved)).delete({ name, namespace: flags.namespace }),
      );
      context.log(`virtual cluster ${name} deleted`);
    }),
  );

  for (const verb of ['pause', 'resume'] as const) {
    hostOptions(
      program
        .command(`${verb} <name>`)
        .description(
          verb === 'pause'
            ? 'stop the control plane and workloads, keep the data'
            : 'start a paused virtual cluster',
        ),
    ).action((name: string, flags: HostFlags) =>
      runCli(async (context) => {
        const { provider } = await existingProvider(name, flags, context);
        const cluster = await context.step(`${verb} ${name}`, () =>
          provider[verb]({ name, namespace: flags.namespace }),
        );
        context.log(`virtual cluster ${name} is ${cluster.state}`);
      }),
    );
  }

  program
    .command('list')
    .description('list virtual clusters')
    .option('--kubeconfig <file>', 'host cluster kubeconfig (default: the embedded host cluster)')
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action((flags: HostFlags & { output: string }) =>
      runCli(async (context) => {
        const resolved = await resolveHost(flags, () => {});
        const clusters = [
          ...(await providerFor('local', resolved).list()),
          ...(await providerFor('kubernetes', resolved).list()),
        ].sort((a, b) => a.name.localeCompare(b.name));
        context.log(flags.output === 'json' ? JSON.stringify(clusters, null, 2) : table(clusters));
      }),
    );

  hostOptions(
    program
      .command('connect <name> [command...]')
      .description('write ./kubeconfig.yaml for a virtual cluster, print it, or run `-- COMMAND` with it')
      .option('--print', 'print the kubeconfig to stdout')
      .option('--kubeconfig-output <file>', 'where to write it (default ./kubeconfig.yaml)'),
  ).action(
    (name: string, command: string[], flags: HostFlags & { print?: boolean; kubeconfigOutput?: string }) =>
      runCli(
        async (context) => {
          const { provider, resolved } = await existingProvider(name, flags, context);
          const code = await connect(provider, name, flags.namespace, resolved.binaries, {
            print: flags.print,
            output: flags.kubeconfigOutput,
            command,
            log: context.log,
          });
          if (code !== 0) process.exitCode = code;
        },
        { propagateExitCode: true },
      ),
  );
}
