/** The pinned upstream releases. Their Go wrapper modules live in `go/<module>/go.mod`. */
export const versions = {
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
  kubeNetworkPolicies: 'v0.8.0',
  helm: 'v4.3.1',
  traefik: 'v3.6.12',
  distribution: 'v3.1.2',
  crane: 'v0.22.1',
  coredns: 'v1.12.1',
  localPathProvisioner: 'v0.0.30',
  /** The Node.js release the project's image runs (a supported one; the tests run on the machine's). */
  imageNode: 'v24.22.3',
} as const;

/** Every binary the cache holds, by the Go wrapper module that builds it. */
export const binariesByModule = {
  kubernetes: {
    'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
    'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
    'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
    kubectl: 'k8s.io/kubernetes/cmd/kubectl',
    kwok: 'sigs.k8s.io/kwok/cmd/kwok',
    // The real node of the embedded host (`host up --real-node`).
    kubelet: 'k8s.io/kubernetes/cmd/kubelet',
    'kube-proxy': 'k8s.io/kubernetes/cmd/kube-proxy',
  },
  etcd: { etcd: 'go.etcd.io/etcd/server/v3' },
  helm: { helm: 'helm.sh/helm/v4/cmd/helm' },
  // A virtual cluster's etcd, kube-apiserver and kube-controller-manager in one process (see its main.go).
  vcontrolplane: { vcontrolplane: 'vcluster-preview/controlplane/vcontrolplane' },
  // The embedded host's ingress controller: it serves the preview URLs.
  traefik: { traefik: 'github.com/traefik/traefik/v3/cmd/traefik' },
  // The embedded host's image registry (mirror of docker.io, registry.k8s.io, ghcr.io) and the tool
  // that builds images from local files into it.
  registry: {
    registry: 'github.com/distribution/distribution/v3/cmd/registry',
    crane: 'github.com/google/go-containerregistry/cmd/crane',
  },
  // Every virtual cluster's DNS server (the chart's CoreDNS image).
  coredns: { coredns: 'github.com/coredns/coredns' },
  // The pod sandbox's process (see its main.go), for the locally built pause image.
  pause: { pause: 'vcluster-preview/controlplane/pause' },
  // The embedded host's dynamic volume provisioner (k3s' default StorageClass `local-path`): it
  // makes a folder on the real node for each claim, through a helper pod of the seeded busybox.
  storage: { 'local-path-provisioner': 'github.com/rancher/local-path-provisioner' },
  // The real node's NetworkPolicy engine: kube-network-policies' controller with a main of our own
  // (see its main.go), in the node's network namespace.
  netpol: { netpol: 'vcluster-preview/controlplane/netpol' },
} as const;

export type GoModule = keyof typeof binariesByModule;
export type BinaryName = {
  [M in GoModule]: keyof (typeof binariesByModule)[M];
}[GoModule];

/** kwok v0.8 ships no built-in stages: these files of its module source are passed with `--config`. */
export const kwokStageFiles = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
] as const;
