import { stringify } from 'yaml';
import type { RealNodeAddresses } from './addresses.ts';

/** The pause image containerd runs as each pod's sandbox (built locally, see images/). */
export const SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10';

/** Upstream registries the local registry mirrors: manifests keep their real image names. */
export const MIRRORED_REGISTRIES = {
  'docker.io': 'https://registry-1.docker.io',
  'registry.k8s.io': 'https://registry.k8s.io',
  'ghcr.io': 'https://ghcr.io',
} as const;

/** Where one real node keeps its files (all under one folder, removed on stop). */
export interface RealNodePaths {
  root: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  containerdConfig: string;
  registryHosts: string;
  cniConfDir: string;
  cniDataDir: string;
  kubeletRoot: string;
  /** The node's pod logs (kubelet's `podLogsDir`). */
  podLogsDir: string;
  kubeletConfig: string;
  kubeProxyConfig: string;
  /** kubeconfig of kubelet and kube-proxy: the API server at the veth address they can reach. */
  nodeKubeconfig: string;
  caFile: string;
  /** Where the storage provisioner makes the folders of the node's volumes. */
  volumesDir: string;
}

export function realNodePaths(root: string): RealNodePaths {
  return {
    root,
    containerdRoot: `${root}/containerd/root`,
    containerdState: `${root}/containerd/state`,
    containerdSocket: `${root}/containerd/containerd.sock`,
    containerdConfig: `${root}/containerd/config.toml`,
    registryHosts: `${root}/containerd/certs.d`,
    cniConfDir: `${root}/cni/net.d`,
    cniDataDir: `${root}/cni/ipam`,
    kubeletRoot: `${root}/kubelet`,
    podLogsDir: `${root}/pod-logs`,
    kubeletConfig: `${root}/kubelet-config.yaml`,
    kubeProxyConfig: `${root}/kube-proxy-config.yaml`,
    nodeKubeconfig: `${root}/node.kubeconfig`,
    caFile: `${root}/ca.crt`,
    volumesDir: `${root}/volumes`,
  };
}

const toml = (value: string) => JSON.stringify(value);

/**
 * containerd (Debian's 1.6) with its own root, state and socket beside the machine's, CRI on
 * cgroupfs, CNI from Debian's plugins. `restrict_oom_score_adj`: root here lacks CAP_SYS_RESOURCE,
 * and without it runc fails every sandbox writing oom_score_adj. Network namespaces go under its
 * state folder so that stopping the node can find and remove every one of them.
 */
export function containerdConfig(paths: RealNodePaths): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = ${toml(paths.containerdRoot)}
state = ${toml(paths.containerdState)}
oom_score = 0

[grpc]
  address = ${toml(paths.containerdSocket)}

[ttrpc]
  address = ${toml(`${paths.containerdSocket}.ttrpc`)}

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = ${toml(`${paths.root}/containerd/opt`)}

[${cri}]
  sandbox_image = ${toml(SANDBOX_IMAGE)}
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = ${toml(paths.cniConfDir)}
  max_conf_num = 1

[${cri}.registry]
  config_path = ${toml(paths.registryHosts)}
`;
}

/**
 * `certs.d/<registry>/hosts.toml`: pull and resolve from the local registry, under a path per
 * upstream registry (`/v2/docker.io/library/nginx/…`) so that equal names of two registries never meet.
 */
export function registryHostsToml(registry: keyof typeof MIRRORED_REGISTRIES, mirror: string): string {
  return `server = ${toml(MIRRORED_REGISTRIES[registry])}

[host.${toml(`http://${mirror}/v2/${registry}`)}]
  capabilities = ["pull", "resolve"]
  override_path = true
`;
}

/**
 * The pod network: one bridge in the node's namespace, host-local addresses. No masquerade and no
 * route out of the namespace but to this machine: a pod reaches the node, other pods, Services and
 * the API server, and nothing beyond this machine.
 */
export function cniConfig(addresses: RealNodeAddresses, paths: RealNodePaths): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'vcluster-preview',
      plugins: [
        {
          type: 'bridge',
          bridge: addresses.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: addresses.podCIDR, gateway: addresses.bridgeIP }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: paths.cniDataDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * kubelet on this machine's cgroup v1 hierarchies (`failCgroupV1: false`: never remount them), with
 * no QOS cgroups or node allocatable enforcement of its own (a shared development machine, not a
 * dedicated node), and the API server's client certificate checked against the cluster CA.
 */
export function kubeletConfig(addresses: RealNodeAddresses, paths: RealNodePaths): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    failSwapOn: false,
    address: addresses.nodeIP,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    staticPodPath: '',
    resolvConf: '/etc/resolv.conf',
    // The host's DNS (controlplane/host-dns.ts) listens on the machine's end of the veth pair.
    clusterDNS: [addresses.hostIP],
    clusterDomain: 'cluster.local',
    volumePluginDir: `${paths.kubeletRoot}/volume-plugins`,
    // Not the machine's /var/log/pods: a kubelet's garbage collector removes every folder there of a
    // pod it does not know, so the nodes beside it (another run's) would lose their pods' logs.
    podLogsDir: paths.podLogsDir,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: paths.caFile },
    },
    authorization: { mode: 'Webhook' },
    serializeImagePulls: false,
    // The machine's disk is shared with everything else: evict only when it is really full.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 99,
    imageGCLowThresholdPercent: 98,
    maxPods: 110,
    protectKernelDefaults: false,
    nodeStatusUpdateFrequency: '10s',
  });
}

/**
 * kube-proxy in iptables mode, inside the node's namespace. Conntrack limits are left as they are:
 * those sysctls are the machine's, not the namespace's.
 */
export function kubeProxyConfig(
  addresses: RealNodeAddresses,
  paths: RealNodePaths,
  nodeName: string,
): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: paths.nodeKubeconfig },
    hostnameOverride: nodeName,
    bindAddress: addresses.nodeIP,
    mode: 'iptables',
    clusterCIDR: addresses.podCIDR,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  });
}
