import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildImages, ensureBinaries, pushImage } from '../controlplane/index.ts';
import { type HostOptions, hostDown, hostStatus, hostUp, runHost } from './host.ts';
import { formatState, type OutputFormat, outputOption } from './output.ts';
import { registerPkiCommand } from './pki-command.ts';
import { registerPreviewCommand } from './preview-command.ts';
import { runCli } from './run-cli.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerSyncerCommand } from './syncer-command.ts';
import { up } from './up.ts';
import { registerVirtualClusterCommands } from './vcluster-commands.ts';

/** The example repository `npm start` previews (examples/hello of this checkout). */
const EXAMPLE_DIR = fileURLToPath(new URL('../examples/hello', import.meta.url));

/** Every command but the program itself, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  program
    .command('up')
    .description(
      'the main job on local defaults: the embedded host cluster and Redis, then the GitHub App service on them',
    )
    .option('--nodes <count>', 'number of kwok fake nodes of the host cluster', '2')
    .option(
      '--no-real-node',
      'kwok nodes only (by default a real node runs the previews where this machine allows it)',
    )
    .option('--ingress-port <port>', 'port of the ingress controller that serves preview URLs', '8080')
    .option(
      '--env-file <path>',
      'settings of the GitHub App (APP_ID, PRIVATE_KEY_PATH, WEBHOOK_SECRET…)',
      '.env',
    )
    .option('--example <dir>', 'a working tree to preview once the service runs', EXAMPLE_DIR)
    .option('--no-example', 'preview no working tree')
    .action(
      (options: {
        nodes: string;
        realNode: boolean;
        ingressPort: string;
        envFile: string;
        example: string | false;
      }) =>
        runCli((context) =>
          up(context, {
            host: hostOptionsFrom(options),
            envFile: options.envFile,
            ...(options.example ? { example: options.example } : {}),
          }),
        ),
    );

  const host = program
    .command('host')
    .description('the embedded host cluster (local control plane with kwok nodes, and a real node)');

  host
    .command('up')
    .description('start the embedded host cluster in the background and print how to reach it')
    .option('--nodes <count>', 'number of kwok fake nodes', '2')
    .option(
      '--real-node',
      'also run a real node (kubelet, containerd), a local registry and an ingress controller (root)',
    )
    .option('--ingress-port <port>', 'port of the ingress controller on 127.0.0.1 (with --real-node)', '8080')
    .addOption(outputOption())
    .action((options: { nodes: string; realNode?: boolean; ingressPort: string; output?: OutputFormat }) =>
      runCli(async ({ step, log }) => {
        const hostOptions = hostOptionsFrom(options);
        // With -o, stdout is the status alone.
        const report = options.output ? (message: string) => console.error(message) : log;
        const binaries = await step('control-plane binaries', () => ensureBinaries(report));
        const status = await step('host cluster', () => hostUp({ ...hostOptions, report }));
        log(
          formatState(status, options.output, () =>
            [
              '',
              `The host cluster is running (API server ${status.server}); Redis at ${status.redisUrl}.`,
              ...(status.realNode
                ? [`Its real node runs containers; Ingresses are served at ${status.ingressUrl}.`]
                : []),
              `  export KUBECONFIG=${status.kubeconfig}`,
              `  export PATH=${binaries.binDir}:$PATH`,
              '  kubectl get nodes',
              'Stop both with: vcluster-preview host down',
            ].join('\n'),
          ),
        );
      }),
    );

  host
    .command('down')
    .description('stop the embedded host cluster')
    .action(() =>
      runCli(async ({ log }) => {
        log((await hostDown(log)) ? 'host cluster stopped' : 'no host cluster was running');
      }),
    );

  host
    .command('status')
    .description('whether the embedded host cluster runs, and its kubeconfig')
    .addOption(outputOption())
    .action((options: { output?: OutputFormat }) =>
      runCli(async ({ log }) => {
        const status = await hostStatus();
        log(
          formatState(status, options.output, () =>
            status.running ? `running: ${status.server}\nkubeconfig: ${status.kubeconfig}` : 'not running',
          ),
        );
      }),
    );

  host
    .command('push')
    .description(
      "push an image (docker save or OCI tarball) to the real node's registry under the name your manifests use",
    )
    .argument('<tarball>', 'the image, e.g. from `docker save` or `buildah push … oci-archive:app.tar`')
    .argument('<name>', 'the name the manifests use, e.g. ghcr.io/acme/app:pr-12')
    .action((tarball: string, name: string) =>
      runCli(async ({ log }) => {
        const status = await hostStatus();
        if (!status.running || !status.registry) {
          throw new Error(
            'no host cluster with a real node is running: start one with `vcluster-preview host up --real-node`',
          );
        }
        const binaries = await ensureBinaries(log);
        const pushed = await pushImage({ binaries, registry: status.registry, tarball, name });
        log(`pushed ${name} (${pushed}); pods that name ${name} now run it`);
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
    .command('images')
    .description("build the project's image and every image the real node serves, and print their sizes")
    .action(() =>
      runCli(async ({ log }) => {
        const binaries = await ensureBinaries(log);
        for (const { ref, bytes } of await buildImages(binaries, log)) {
          log(`${ref}  ${(bytes / 1024 / 1024).toFixed(1)} MiB compressed`);
        }
      }),
    );

  host
    .command('run', { hidden: true })
    .description('run the host cluster in the foreground (what `host up` starts in the background)')
    .option('--nodes <count>', 'number of kwok fake nodes', '2')
    .option('--real-node', 'also run a real node')
    .option('--ingress-port <port>', 'port of the ingress controller', '8080')
    .action((options: { nodes: string; realNode?: boolean; ingressPort: string }) =>
      runHost(hostOptionsFrom(options)),
    );

  registerVirtualClusterCommands(program);
  registerPreviewCommand(program);
  registerSyncerCommand(program);
  registerPkiCommand(program);
  registerServeCommand(program);
}

/** Reads and checks the host cluster's options, as `host up`, `host run` and `up` take them. */
function hostOptionsFrom(options: { nodes: string; realNode?: boolean; ingressPort: string }): HostOptions {
  const nodes = Number(options.nodes);
  const ingressPort = Number(options.ingressPort);
  if (!Number.isInteger(nodes) || nodes < 0) throw new Error(`--nodes must be a count, got ${options.nodes}`);
  if (!Number.isInteger(ingressPort) || ingressPort < 1 || ingressPort > 65535) {
    throw new Error(`--ingress-port must be a port number, got ${options.ingressPort}`);
  }
  return { nodes, realNode: !!options.realNode, ingressPort };
}
