/** The pinned upstream releases. Their Go wrapper modules live in `go/<module>/go.mod`. */
export const versions = {
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
  helm: 'v4.3.1',
} as const;

/** Every binary the cache holds, by the Go wrapper module that builds it. */
export const binariesByModule = {
  kubernetes: {
    'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
    'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
    'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
    kubectl: 'k8s.io/kubernetes/cmd/kubectl',
    kwok: 'sigs.k8s.io/kwok/cmd/kwok',
  },
  etcd: { etcd: 'go.etcd.io/etcd/server/v3' },
  helm: { helm: 'helm.sh/helm/v4/cmd/helm' },
  // A virtual cluster's etcd, kube-apiserver and kube-controller-manager in one process (see its main.go).
  vcontrolplane: { vcontrolplane: 'vcluster-preview/controlplane/vcontrolplane' },
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
