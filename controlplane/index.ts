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
  FAKE_NODE_TAINT,
  fakeNode,
  startCluster,
} from './cluster.ts';
export { ImageBuildError } from './images/build.ts';
export { buildImages } from './images/local-images.ts';
export { pushImage } from './images/push.ts';
export { INGRESS_CLASS } from './ingress.ts';
export { renderKubeconfig } from './kubeconfig.ts';
export { freePort } from './net.ts';
export { isAlive, ManagedProcess, pidsMentioning } from './process.ts';
export { type RealNode, RealNodeError, realNodeUnsupportedReason } from './real-node/index.ts';
export { PROVISIONER, STORAGE_CLASS } from './storage.ts';
export { versions } from './versions.ts';
