/**
 * The one door of preview/ for app/: everything the service uses of preview environments (providers,
 * deploying the app, its URL, the repo config) is exported here, so the folder's inside can change
 * without app/ knowing (the import-boundary test holds app/ to this file).
 */

export { messageOf } from '../kube/client.ts';
export { readHostKubeconfig } from '../kube/host-kubeconfig.ts';
export {
  type CiKubeconfig,
  type CiKubeconfigOptions,
  ciKubeconfig,
  TOKEN_EXPIRATION,
} from './ci-kubeconfig.ts';
export {
  AUTHOR_FIX_HINTS,
  authorFix,
  checkKustomization,
  fileBudget,
  type HostSecretCopy,
  HostSecretError,
  hostLabel,
  type PreviewApp,
  type PreviewUrlStyle,
  renderPreviewApp,
  rollOutApp,
} from './deploy/index.ts';
export { parseDuration } from './duration.ts';
export { exposeApp } from './expose-app.ts';
export { type PreviewHostAccess, previewHostAccess } from './host-access.ts';
export { hostHolder } from './host-holder.ts';
export { resetVirtualCluster } from './lifecycle.ts';
export {
  annotations,
  type CreateOptions,
  labels,
  POD_SECURITY_LEVELS,
  type PodSecurityLevel,
  type ProviderName,
  type VirtualClusterInfo,
  type VirtualClusterProvider,
  type VirtualClusterRef,
  type VirtualClusterState,
} from './provider.ts';
export { helmBinary, providerNamed } from './providers/index.ts';
export {
  DEFAULT_URL_TEMPLATE,
  parseRepoConfig,
  REPO_CONFIG_PATH,
  type RepoConfig,
  RepoConfigError,
  SubstitutionError,
} from './repo-config.ts';
export { type PreviewStep, STEPS, type StepStatus, StepTracker } from './steps.ts';
export { summarizeSyncerLog } from './syncer-log.ts';
export { syncerSaw } from './syncer-saw.ts';
export type { TreeRun } from './tree-preview.ts';
export { MAX_VARIABLE_LENGTH, variablesSchema } from './variables.ts';
export { parseWakerAddress, type WakerAddress } from './wake/route.ts';
export { type PreviewWakeAccess, previewWakeAccess, type WakeTarget } from './wake/wake-access.ts';
