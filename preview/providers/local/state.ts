import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stateHome } from '../../../controlplane/index.ts';
import type { VolumeFenceOptions } from '../../../syncer/policy/volume-fence.ts';

/** What the local provider keeps on disk for one virtual cluster (beside the host namespace's marks). */
export interface LocalClusterConfig {
  name: string;
  namespace: string;
  /** Host kubeconfig file the runner uses. */
  hostKubeconfigPath: string;
  serviceCIDR: string;
  allowedHostSuffix?: string;
  ingressClassName?: string;
  podSecurityStandard?: string;
  /** Whether the namespace is fenced by NetworkPolicies (isolation.networkPolicy; absent: yes). */
  networkPolicy?: boolean;
  volumeFence?: VolumeFenceOptions;
  /** Space quota of its etcd in bytes (the operator's; see LocalProviderOptions.storeQuotaBytes). */
  storeQuotaBytes?: number;
}

/** What the runner hands its syncer at start; a running syncer keeps what it started with. */
const SYNCER_SETTINGS = [
  'allowedHostSuffix',
  'ingressClassName',
  'volumeFence',
  'podSecurityStandard',
] as const;

/** Whether a running virtual cluster's syncer must start again to take `next` (pure). */
export function syncerSettingsChanged(before: LocalClusterConfig, next: LocalClusterConfig): boolean {
  return SYNCER_SETTINGS.some((key) => JSON.stringify(before[key]) !== JSON.stringify(next[key]));
}

/** Written by the runner process. */
export interface LocalRunnerState {
  pid: number;
  ready: boolean;
  server?: string;
  error?: string;
  startedAt?: string;
}

/** Root of the local provider's state; `VCLUSTER_PREVIEW_HOME` moves it. */
export function localStateRoot(): string {
  return join(stateHome(), 'vclusters');
}

export function clusterStateDir(root: string, namespace: string, name: string): string {
  return join(root, `${namespace}--${name}`);
}

export const paths = (dir: string) => ({
  config: join(dir, 'config.json'),
  runner: join(dir, 'runner.json'),
  log: join(dir, 'runner.log'),
  cluster: join(dir, 'cluster'),
  kubeconfig: join(dir, 'cluster', 'admin.kubeconfig'),
  hostKubeconfig: join(dir, 'host.kubeconfig'),
});

export async function writeConfig(dir: string, config: LocalClusterConfig): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(paths(dir).config, `${JSON.stringify(config, null, 2)}\n`);
}

export async function readConfig(dir: string): Promise<LocalClusterConfig> {
  return JSON.parse(await readFile(paths(dir).config, 'utf8')) as LocalClusterConfig;
}

export function readRunnerState(dir: string): LocalRunnerState | undefined {
  try {
    return JSON.parse(readFileSync(paths(dir).runner, 'utf8')) as LocalRunnerState;
  } catch {
    return undefined;
  }
}

export async function writeRunnerState(dir: string, state: LocalRunnerState): Promise<void> {
  await writeFile(paths(dir).runner, `${JSON.stringify(state, null, 2)}\n`);
}
