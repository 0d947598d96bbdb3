export {
  type Binaries,
  ControlPlaneBuildError,
  cacheRoot,
  ensureBinaries,
  findBinaries,
  stateHome,
} from './binaries.ts';
export { type ClusterCertificates, createClusterCertificates } from './certs.ts';
export {
  type Cluster,
  type ClusterMode,
  type ClusterOptions,
  ClusterStartError,
  fakeNode,
  startCluster,
} from './cluster.ts';
export { renderKubeconfig } from './kubeconfig.ts';
export { freePort } from './net.ts';
export { isAlive, ManagedProcess, pidsMentioning } from './process.ts';
export { versions } from './versions.ts';
