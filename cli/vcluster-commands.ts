import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, constants as osConstants, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { DEFAULT_PROVIDER, PROVIDERS } from '../app/service-config.ts';
import { type Binaries, ensureBinaries, findBinaries } from '../controlplane/index.ts';
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
import { KubeconfigError, type KubeconfigSource, kubeconfigSource, mergeKubeconfigs } from './kubeconfig.ts';
import { formatState, type OutputFormat, outputOption } from './output.ts';
import { runCli } from './run-cli.ts';

export interface HostFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

interface Resolved {
  hostKubeconfig: string;
  /** Where it came from: `preview` serves URLs through the embedded host's ingress controller. */
  source: KubeconfigSource;
  binaries: Binaries;
}

/**
 * The host cluster's kubeconfig (YAML), from the first of --kubeconfig, $KUBECONFIG, the embedded
 * host cluster while `host up` runs it, ~/.kube/config (see kubeconfigSource), with --context as
 * its current context.
 */
export async function resolveHostKubeconfig(flags: HostFlags): Promise<Omit<Resolved, 'binaries'>> {
  const status = await hostStatus();
  const source = kubeconfigSource({
    flag: flags.kubeconfig,
    env: process.env.KUBECONFIG,
    embedded: status.running ? status.kubeconfig : undefined,
    home: join(homedir(), '.kube', 'config'),
    exists: existsSync,
    delimiter,
  });
  if (!source)
    throw new KubeconfigError(
      'no host cluster reachable: start the embedded one with `vcluster-preview host up`, or pass --kubeconfig FILE (or set KUBECONFIG); ~/.kube/config does not exist either',
    );
  const files = await Promise.all(
    source.files.map(async (path) => {
      try {
        return { path, text: await readFile(path, 'utf8') };
      } catch (error) {
        throw new KubeconfigError(`cannot read ${source.origin} ${path}: ${(error as Error).message}`);
      }
    }),
  );
  return { hostKubeconfig: mergeKubeconfigs(files, flags.context), source };
}

/** The host cluster's kubeconfig and the control-plane binaries (built first when missing). */
export async function resolveHost(flags: HostFlags, log: (m: string) => void): Promise<Resolved> {
  const host = await resolveHostKubeconfig(flags);
  return { ...host, binaries: await ensureBinaries(log) };
}

/** Progress (a first build of the binaries, a provider's steps) goes to stderr: stdout is the result. */
const progress = (message: string) => console.error(message);

async function existingProvider(name: string, flags: HostFlags) {
  const resolved = await resolveHost(flags, progress);
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

/** `--kubeconfig` and `--context`, the same on every command that works on the host cluster. */
export const kubeconfigOption = () =>
  new Option(
    '--kubeconfig <file>',
    'host cluster kubeconfig (default: $KUBECONFIG, else the embedded host cluster while it runs, else ~/.kube/config)',
  );
export const contextOption = () =>
  new Option('--context <name>', 'context of that kubeconfig to use (default: its current-context)');

const hostOptions = (command: Command) =>
  command
    .option('-n, --namespace <namespace>', 'host namespace (default: vcluster-NAME)')
    .addOption(kubeconfigOption())
    .addOption(contextOption());

/** `--provider`: the same default as the service's VCLUSTER_PROVIDER, which also sets it here. */
export const providerOption = () =>
  new Option('--provider <provider>', 'where the virtual cluster runs')
    .choices(PROVIDERS)
    .env('VCLUSTER_PROVIDER')
    .default(DEFAULT_PROVIDER);

/** For a command that runs none of them (list): the built binaries, else names on PATH; never a build. */
async function binariesWithoutBuild(): Promise<Binaries> {
  return (await findBinaries()) ?? { dir: '', binDir: '', path: (name) => name, kwokStages: [] };
}

/** One line for people about a virtual cluster, as create, pause and resume print it. */
const describeCluster = (cluster: VirtualClusterInfo) =>
  `virtual cluster ${cluster.name} is ${cluster.state} in namespace ${cluster.namespace} (${cluster.provider})`;

/** create, delete, pause, resume, list, connect: the vcluster CLI's verbs. */
export function registerVirtualClusterCommands(program: Command): void {
  hostOptions(program.command('create <name>').description('create a virtual cluster (a no-op if it exists)'))
    .addOption(providerOption())
    .option('--connect <bool>', 'write ./kubeconfig.yaml for it afterwards', 'true')
    .option('--allowed-host-suffix <domain>', 'ingress hosts the virtual cluster may use')
    .addOption(outputOption())
    .action(
      (
        name: string,
        flags: HostFlags & {
          provider: ProviderName;
          connect: string;
          allowedHostSuffix?: string;
          output?: OutputFormat;
        },
      ) =>
        runCli(async (context) => {
          const resolved = await resolveHost(flags, progress);
          const provider = providerFor(flags.provider, resolved);
          const cluster = await context.step(`create ${name}`, () =>
            provider.create({
              name,
              namespace: flags.namespace,
              allowedHostSuffix: flags.allowedHostSuffix,
              report: (m) => console.error(`  ${m}`),
            }),
          );
          context.log(formatState(cluster, flags.output, () => describeCluster(cluster)));
          if (flags.connect !== 'false') {
            // With -o, stdout is the cluster alone.
            const log = flags.output ? progress : context.log;
            await connect(provider, name, flags.namespace, resolved.binaries, { log });
          }
        }),
    );

  hostOptions(
    program.command('delete <name>').description('delete a virtual cluster and everything it made'),
  ).action((name: string, flags: HostFlags) =>
    runCli(async (context) => {
      const resolved = await resolveHost(flags, progress);
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
    )
      .addOption(outputOption())
      .action((name: string, flags: HostFlags & { output?: OutputFormat }) =>
        runCli(async (context) => {
          const { provider } = await existingProvider(name, flags);
          const cluster = await context.step(`${verb} ${name}`, () =>
            provider[verb]({ name, namespace: flags.namespace }),
          );
          context.log(formatState(cluster, flags.output, () => describeCluster(cluster)));
        }),
      );
  }

  program
    .command('list')
    .description('list virtual clusters')
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .addOption(outputOption())
    .action((flags: HostFlags & { output?: OutputFormat }) =>
      runCli(async (context) => {
        const host = await resolveHostKubeconfig(flags);
        const resolved = { ...host, binaries: await binariesWithoutBuild() };
        const clusters = [
          ...(await providerFor('local', resolved).list()),
          ...(await providerFor('kubernetes', resolved).list()),
        ].sort((a, b) => a.name.localeCompare(b.name));
        context.log(formatState(clusters, flags.output, () => table(clusters)));
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
          const { provider, resolved } = await existingProvider(name, flags);
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
