import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Command, Option } from 'commander';
import { type Logger, pino } from 'pino';
import { isNotFound, type KubeClients, kubeClients, kubeConfigFromFile } from '../kube/client.ts';
import { applyCoreDns } from '../syncer/coredns.ts';
import { startHealthServer } from '../syncer/health-server.ts';
import { writeKubeconfigSecret } from '../syncer/kubeconfig-secret.ts';
import {
  isPodSecurityLevel,
  POD_SECURITY_LEVELS,
  type PodSecurityLevel,
} from '../syncer/policy/pod-security.ts';
import { Syncer } from '../syncer/syncer.ts';
import {
  EXPOSING_SERVICE_TYPES,
  type ExposingServiceType,
  type TranslateContext,
} from '../syncer/translate/context.ts';
import { useContext } from './kubeconfig.ts';
import { ExitCode } from './run-cli.ts';

/** The flags as commander hands them over: strings, unchecked. */
export interface SyncerFlags {
  name: string;
  hostNamespace: string;
  kubeconfig?: string;
  /** The old spelling of --kubeconfig, hidden; the chart's and scripts' from before keep working. */
  hostKubeconfig?: string;
  context?: string;
  virtualKubeconfig: string;
  allowedHostSuffix?: string;
  ingressClass?: string;
  allowServiceTypes?: string;
  allowAnnotations?: string;
  allowCsiDrivers?: string;
  allowStorageClasses?: string;
  workers: string;
  healthPort: string;
  workloadServiceAccount?: string;
  enforcePodSecurity: string;
  serviceName?: string;
  kubeconfigSecret?: string;
  kubeconfigServer?: string;
  corednsConfigmap?: string;
  readHostNodes: string | boolean;
  kubeletPort: string;
  kubeletAddress?: string;
  kubeletBindAddress?: string;
  clientCaCert?: string;
}

/** The flags, checked and typed. */
export interface SyncerCommandOptions {
  name: string;
  hostNamespace: string;
  /** The host cluster's kubeconfig file (`--kubeconfig`); unset, $KUBECONFIG, ~/.kube/config or in-cluster. */
  hostKubeconfig?: string;
  /** Its context to use (`--context`); unset, its current-context. */
  hostContext?: string;
  virtualKubeconfig: string;
  allowedHostSuffix?: string;
  /** IngressClass of every host Ingress (`--ingress-class`); unset, the host's default. */
  ingressClassName?: string;
  /** Service types beyond ClusterIP that may reach the host (`--allow-service-types`), default none. */
  allowedServiceTypes: ExposingServiceType[];
  /** Controller annotations that may reach the host (`--allow-annotations`), default none. */
  allowedAnnotations: string[];
  /** CSI drivers inline volumes may name (`--allow-csi-drivers`), default none. */
  allowedCsiDrivers: string[];
  /** Storage classes claims may name (`--allow-storage-classes`); unset, any. */
  allowedStorageClasses?: string[];
  workers: number;
  healthPort: number;
  workloadServiceAccount?: string;
  podSecurityStandard: PodSecurityLevel;
  serviceName?: string;
  kubeconfigSecret?: { name: string; server?: string };
  corednsConfigMap?: string;
  readHostNodes: boolean;
  /** The fake nodes' kubelet API (logs, exec, attach, port-forward), when `--kubelet-port` is not 0. */
  kubelet?: { port: number; advertiseAddress: string; bindAddress?: string; clientCAFile?: string };
}

/** A flag has a value the syncer cannot use; the message names the flag and what would work. */
export class SyncerFlagError extends Error {
  override name = 'SyncerFlagError';
}

function integer(flag: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < min || number > max)
    throw new SyncerFlagError(`${flag}: "${value}" is not a whole number from ${min} to ${max}`);
  return number;
}

/** `--allow-service-types NodePort,LoadBalancer` (empty: none). */
export function parseAllowedServiceTypes(value: string | undefined): ExposingServiceType[] {
  const types = (value ?? '')
    .split(',')
    .map((type) => type.trim())
    .filter(Boolean);
  for (const type of types) {
    if (!(EXPOSING_SERVICE_TYPES as readonly string[]).includes(type))
      throw new SyncerFlagError(
        `--allow-service-types: "${type}" is not a service type that can be allowed; use a comma-separated list of ${EXPOSING_SERVICE_TYPES.join(', ')} (ClusterIP is always allowed, ExternalName never)`,
      );
  }
  return [...new Set(types)] as ExposingServiceType[];
}

const commaList = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** Checks every flag; the only place the syncer's flags are interpreted. */
export function parseSyncerFlags(flags: SyncerFlags): SyncerCommandOptions {
  if (flags.kubeconfig !== undefined && flags.hostKubeconfig !== undefined)
    throw new SyncerFlagError(
      '--host-kubeconfig is the old name of --kubeconfig: give the host cluster kubeconfig once, as --kubeconfig',
    );
  if (!isPodSecurityLevel(flags.enforcePodSecurity))
    throw new SyncerFlagError(
      `--enforce-pod-security: "${flags.enforcePodSecurity}" is not a Pod Security Standard; use one of ${POD_SECURITY_LEVELS.join(', ')}`,
    );
  let server: string | undefined;
  if (flags.kubeconfigServer !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(flags.kubeconfigServer);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname)
      throw new SyncerFlagError(
        `--kubeconfig-server: "${flags.kubeconfigServer}" is not an http(s) URL; give the address users reach the virtual API server at, e.g. https://vc.example.com`,
      );
    if (!flags.kubeconfigSecret)
      throw new SyncerFlagError(
        '--kubeconfig-server needs --kubeconfig-secret (the Secret it is written to)',
      );
    server = flags.kubeconfigServer;
  }
  const readHostNodes = String(flags.readHostNodes);
  if (readHostNodes !== 'true' && readHostNodes !== 'false')
    throw new SyncerFlagError(`--read-host-nodes: "${readHostNodes}" is neither true nor false`);
  for (const [flag, value] of [
    ['--service-name', flags.serviceName],
    ['--kubeconfig-secret', flags.kubeconfigSecret],
    ['--coredns-configmap', flags.corednsConfigmap],
    ['--ingress-class', flags.ingressClass],
  ] as const) {
    if (value !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value))
      throw new SyncerFlagError(`${flag}: "${value}" is not a valid Kubernetes object name`);
  }
  const kubeletPort = integer('--kubelet-port', flags.kubeletPort, 0, 65535);
  // In a pod the chart passes the pod's IP through the downward API; elsewhere this machine.
  const advertiseAddress = flags.kubeletAddress ?? process.env.POD_IP ?? '127.0.0.1';
  for (const [flag, value] of [
    ['--kubelet-address', advertiseAddress],
    ['--kubelet-bind-address', flags.kubeletBindAddress],
  ] as const) {
    if (value !== undefined && !isIP(value))
      throw new SyncerFlagError(
        `${flag}: "${value}" is not an IP address (the fake nodes advertise it as InternalIP)`,
      );
  }
  return {
    kubelet:
      kubeletPort > 0
        ? {
            port: kubeletPort,
            advertiseAddress,
            bindAddress: flags.kubeletBindAddress,
            clientCAFile: flags.clientCaCert,
          }
        : undefined,
    name: flags.name,
    hostNamespace: flags.hostNamespace,
    hostKubeconfig: flags.kubeconfig ?? flags.hostKubeconfig,
    ...(flags.context !== undefined ? { hostContext: flags.context } : {}),
    virtualKubeconfig: flags.virtualKubeconfig,
    allowedHostSuffix: flags.allowedHostSuffix,
    ingressClassName: flags.ingressClass,
    allowedServiceTypes: parseAllowedServiceTypes(flags.allowServiceTypes),
    allowedAnnotations: commaList(flags.allowAnnotations),
    allowedCsiDrivers: commaList(flags.allowCsiDrivers),
    ...(flags.allowStorageClasses !== undefined
      ? { allowedStorageClasses: commaList(flags.allowStorageClasses) }
      : {}),
    workers: integer('--workers', flags.workers, 1, 1000),
    healthPort: integer('--health-port', flags.healthPort, 0, 65535),
    workloadServiceAccount: flags.workloadServiceAccount,
    podSecurityStandard: flags.enforcePodSecurity,
    serviceName: flags.serviceName,
    kubeconfigSecret: flags.kubeconfigSecret ? { name: flags.kubeconfigSecret, server } : undefined,
    corednsConfigMap: flags.corednsConfigmap,
    readHostNodes: readHostNodes === 'true',
  };
}

/**
 * What the vcluster's host Service gives the translation: its ClusterIP for `KUBERNETES_SERVICE_HOST`
 * and hostAliases, and itself as the owner of every host object (uninstalling garbage-collects them).
 */
async function hostServiceFacts(
  host: KubeClients,
  namespace: string,
  name: string,
): Promise<Partial<TranslateContext>> {
  try {
    const service = await host.core.readNamespacedService({ name, namespace });
    const clusterIP = service.spec?.clusterIP;
    return {
      kubernetesServiceIP: clusterIP && clusterIP !== 'None' ? clusterIP : undefined,
      owner: { apiVersion: 'v1', kind: 'Service', name, uid: service.metadata?.uid ?? '' },
    };
  } catch (error) {
    if (isNotFound(error))
      throw new Error(`host Service ${namespace}/${name} does not exist (--service-name); create it first`);
    throw error;
  }
}

async function runSyncer(options: SyncerCommandOptions, logger: Logger): Promise<void> {
  // Inside a pod the service account is the host access; elsewhere KUBECONFIG or ~/.kube/config.
  const hostConfig = useContext(kubeConfigFromFile(options.hostKubeconfig), options.hostContext);
  const host = kubeClients(hostConfig);
  const virtualKubeconfig = readFileSync(options.virtualKubeconfig, 'utf8');
  const translate = options.serviceName
    ? await hostServiceFacts(host, options.hostNamespace, options.serviceName)
    : {};
  // --read-host-nodes=false needs nothing: fake nodes are made from the virtual pods' spec.nodeName
  // alone and host nodes are never read, so the syncer needs no cluster-wide rights either way.
  const syncer = new Syncer({
    name: options.name,
    hostNamespace: options.hostNamespace,
    host: hostConfig,
    virtual: virtualKubeconfig,
    allowedHostSuffix: options.allowedHostSuffix,
    ingressClassName: options.ingressClassName,
    allowedServiceTypes: options.allowedServiceTypes,
    allowedAnnotations: options.allowedAnnotations,
    workers: options.workers,
    workloadServiceAccount: options.workloadServiceAccount,
    podSecurityStandard: options.podSecurityStandard,
    volumeFence: {
      allowedCsiDrivers: options.allowedCsiDrivers,
      ...(options.allowedStorageClasses ? { allowedStorageClasses: options.allowedStorageClasses } : {}),
    },
    translate,
    logger,
    ...(options.kubelet
      ? {
          kubelet: {
            port: options.kubelet.port,
            advertiseAddress: options.kubelet.advertiseAddress,
            bindAddress: options.kubelet.bindAddress ?? '0.0.0.0',
            clientCA: options.kubelet.clientCAFile
              ? readFileSync(options.kubelet.clientCAFile, 'utf8')
              : undefined,
          },
        }
      : {}),
  });
  const server = options.healthPort > 0 ? await startHealthServer(syncer, options.healthPort) : undefined;
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping syncer');
    server?.close();
    await syncer.stop();
    process.exit(ExitCode.ok);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  // Done before the caches fill, so /readyz also means "users' kubeconfig written, CoreDNS applied".
  if (options.kubeconfigSecret) {
    await writeKubeconfigSecret(host, virtualKubeconfig, {
      name: options.kubeconfigSecret.name,
      namespace: options.hostNamespace,
      server: options.kubeconfigSecret.server,
      labels: { app: 'vcluster', release: options.name },
    });
    logger.info({ secret: options.kubeconfigSecret.name }, 'users’ kubeconfig written');
  }
  if (options.corednsConfigMap) {
    await applyCoreDns(host, syncer.virtual, {
      configMap: options.corednsConfigMap,
      hostNamespace: options.hostNamespace,
      logger,
    });
  }
  await syncer.start();
}

/** `vcluster-preview syncer`: runs one syncer in the foreground until SIGTERM. */
export function registerSyncerCommand(program: Command): void {
  program
    .command('syncer')
    .description('sync one virtual cluster into one host namespace (runs until stopped)')
    .requiredOption('--name <name>', 'virtual cluster name (part of every host object name)')
    .requiredOption('--host-namespace <namespace>', 'host namespace the virtual objects go to')
    .option(
      '--kubeconfig <file>',
      'host cluster kubeconfig (default: $KUBECONFIG, else ~/.kube/config, else the pod’s service account)',
    )
    .addOption(new Option('--host-kubeconfig <file>').hideHelp())
    .option('--context <name>', 'context of the host kubeconfig to use (default: its current-context)')
    .requiredOption('--virtual-kubeconfig <file>', 'virtual cluster admin kubeconfig')
    .option('--allowed-host-suffix <domain>', 'ingress hosts must be this domain or below it')
    .option(
      '--ingress-class <name>',
      'IngressClass of every host Ingress, whatever the virtual Ingress names (default: none, the host’s default class)',
    )
    .option(
      '--allow-service-types <types>',
      `service types beyond ClusterIP that may reach the host, comma-separated (${EXPOSING_SERVICE_TYPES.join(', ')}); others are synced as ClusterIP (default: none)`,
    )
    .option(
      '--allow-annotations <keys>',
      'ingress controller, load balancer, DNS and certificate annotations that may reach the host, comma-separated keys or prefixes ending in / or * (default: none)',
    )
    .option(
      '--allow-csi-drivers <drivers>',
      'CSI drivers inline csi volumes of virtual pods may name, comma-separated (default: none)',
    )
    .option(
      '--allow-storage-classes <classes>',
      'storage classes claims (and ephemeral volumes) may name, comma-separated; an unset class is the host default (default: any)',
    )
    .option('--workers <count>', 'concurrent reconciles per kind', '16')
    .option('--health-port <port>', 'port of /healthz, /readyz and /metrics (0: none)', '8080')
    .option('--workload-service-account <name>', 'host service account for synced pods')
    .option(
      '--enforce-pod-security <level>',
      `Pod Security Standard virtual pods must meet to reach the host (${POD_SECURITY_LEVELS.join(' | ')})`,
      'baseline',
    )
    .option(
      '--service-name <name>',
      'host Service of the vcluster: its ClusterIP is the API address of synced pods, and it owns every host object',
    )
    .option('--kubeconfig-secret <name>', 'write the users’ kubeconfig to this host Secret at start')
    .option('--kubeconfig-server <url>', 'server of that kubeconfig (default: the virtual kubeconfig’s)')
    .option(
      '--coredns-configmap <name>',
      'server-side apply key coredns.yaml of this host ConfigMap into the virtual cluster at start',
    )
    .option(
      '--read-host-nodes [bool]',
      'accepted for the chart; fake nodes come from the pods’ spec.nodeName, host nodes are never read',
      'true',
    )
    .option(
      '--kubelet-port <port>',
      'serve the fake nodes’ kubelet API (logs, exec, attach, port-forward of virtual pods) on this HTTPS port (0: off)',
      '0',
    )
    .option(
      '--kubelet-address <ip>',
      'the fake nodes’ InternalIP: where the virtual API server reaches that port (default: $POD_IP, else 127.0.0.1)',
    )
    .option('--kubelet-bind-address <ip>', 'where the kubelet API listens', '0.0.0.0')
    .option(
      '--client-ca-cert <file>',
      'CA of the virtual API server’s kubelet client certificate (default: the virtual kubeconfig’s CA)',
    )
    .action(async (flags: SyncerFlags, command: Command) => {
      let options: SyncerCommandOptions;
      try {
        options = parseSyncerFlags(flags);
      } catch (error) {
        if (!(error instanceof SyncerFlagError)) throw error;
        command.error(`error: ${error.message}`, { exitCode: ExitCode.usage, code: 'syncer.invalidFlag' });
      }
      const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
      try {
        await runSyncer(options, logger);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        logger.error({ err: error }, 'syncer failed to start');
        console.error(`error: ${message}`);
        process.exit(ExitCode.failed);
      }
    });
}
