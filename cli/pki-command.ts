import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import {
  ignoreNotFound,
  isAlreadyExists,
  isConflict,
  isNotFound,
  kubeClients,
  kubeConfigFromFile,
} from '../kube/client.ts';
import { useContext } from './kubeconfig.ts';
import {
  buildPkiSecret,
  materialize,
  type PkiData,
  type PkiPlan,
  pkiFiles,
  planPki,
  releaseOf,
  requestedNames,
  secretData,
} from './pki.ts';
import { runCli } from './run-cli.ts';

export interface PkiOptions {
  /** Folder the files are written to. */
  dir: string;
  /** Secret that keeps the certificates, in `namespace`. */
  secret: string;
  namespace: string;
  /** Names and IP addresses of the serving certificate. */
  hosts: string[];
  /** A Service in `namespace` whose ClusterIPs the serving certificate must hold too. */
  service?: string;
  /** Host access (default: in-cluster, KUBECONFIG or ~/.kube/config). */
  kubeconfig?: KubeConfig;
  log?: (message: string) => void;
}

export interface PkiResult {
  /** What was done with the Secret the last time round. */
  plan: PkiPlan;
  data: PkiData;
  /** Files written. */
  files: string[];
}

/** How often a lost race (409 on create or update) is retried before giving up. */
const attempts = 5;

/**
 * The `pki` init container's work: certificates from Secret `secret` (made, or renewed with the same
 * CA, when needed), written to `dir`. Safe to run at once from several places: the loser of a
 * create or update race starts over from what the winner stored.
 */
export async function runPki(options: PkiOptions): Promise<PkiResult> {
  const log = options.log ?? (() => {});
  const { core } = kubeClients(options.kubeconfig ?? kubeConfigFromFile());
  const { namespace, secret: name } = options;

  let serviceIPs: string[] = [];
  if (options.service) {
    const service = await core.readNamespacedService({ name: options.service, namespace }).catch((error) => {
      if (isNotFound(error)) {
        throw new Error(
          `Service ${options.service} not found in namespace ${namespace}: its ClusterIP belongs in the serving certificate (the chart creates it before the pod)`,
        );
      }
      throw error;
    });
    serviceIPs = service.spec?.clusterIPs ?? (service.spec?.clusterIP ? [service.spec.clusterIP] : []);
  }
  const names = requestedNames(options.hosts, serviceIPs);
  const release = releaseOf(name, options.service);
  const clusterName = release ?? 'vcluster';

  let result: { plan: PkiPlan; data: PkiData } | undefined;
  for (let attempt = 1; !result; attempt++) {
    const existing = await core.readNamespacedSecret({ name, namespace }).catch((error) => {
      return ignoreNotFound(error);
    });
    const stored = secretData(existing);
    const plan = await planPki(stored, names);
    const data = await materialize(plan, stored, names, clusterName);
    try {
      if (plan.action === 'create') {
        await core.createNamespacedSecret({
          namespace,
          body: buildPkiSecret({ name, namespace, release, data }),
        });
        log(`created Secret ${name} with a new CA, serving, admin and service-account keys`);
      } else if (plan.action !== 'reuse') {
        // resourceVersion makes the update fail with 409 if someone else changed it meanwhile.
        await core.replaceNamespacedSecret({
          name,
          namespace,
          body: buildPkiSecret({
            name,
            namespace,
            release,
            data,
            resourceVersion: existing?.metadata?.resourceVersion,
          }),
        });
        log(`updated Secret ${name} (${plan.action}: ${plan.reasons.join('; ')})`);
      } else {
        log(`reusing the certificates of Secret ${name}`);
      }
      result = { plan, data };
    } catch (error) {
      if (!(isAlreadyExists(error) || isConflict(error)) || attempt >= attempts) throw error;
      log(`Secret ${name} changed meanwhile; using what is stored now`);
    }
  }

  await mkdir(options.dir, { recursive: true });
  const files: string[] = [];
  for (const file of pkiFiles) {
    const path = join(options.dir, file);
    await writeFile(path, result.data[file], { mode: 0o600 });
    // The mode of writeFile applies only to new files: a restarted init container finds its own.
    await chmod(path, 0o600);
    files.push(path);
  }
  return { ...result, files };
}

interface PkiFlags {
  dir: string;
  secret: string;
  namespace: string;
  hosts: string;
  service?: string;
  kubeconfig?: string;
  context?: string;
}

/** `vcluster-preview pki`: the chart's init container (charts/vcluster/README.md, "The pki contract"). */
export function registerPkiCommand(program: Command): void {
  program
    .command('pki')
    .description(
      "make or reuse a virtual cluster's certificates, kept in a host Secret, and write them to a folder",
    )
    .requiredOption('--dir <dir>', 'folder to write the certificate files to')
    .requiredOption('--secret <name>', 'Secret that keeps the certificates')
    .requiredOption('--namespace <namespace>', 'namespace of the Secret (and of --service)')
    .option('--hosts <list>', 'comma-separated DNS names and IP addresses of the serving certificate', '')
    .option('--service <name>', "also put this Service's ClusterIP(s) into the serving certificate")
    .option(
      '--kubeconfig <file>',
      'host cluster kubeconfig (default: $KUBECONFIG, else ~/.kube/config, else the pod’s service account)',
    )
    .option('--context <name>', 'context of that kubeconfig to use (default: its current-context)')
    .action((flags: PkiFlags) =>
      runCli(async ({ log }) => {
        const result = await runPki({
          dir: flags.dir,
          secret: flags.secret,
          namespace: flags.namespace,
          hosts: flags.hosts.split(','),
          service: flags.service,
          kubeconfig: useContext(kubeConfigFromFile(flags.kubeconfig), flags.context),
          log,
        });
        log(`wrote ${result.files.length} files to ${flags.dir}`);
      }),
    );
}
