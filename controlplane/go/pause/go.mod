// The pod sandbox's pause process, for the locally built pause image (registry.k8s.io/pause).
module vcluster-preview/controlplane/pause

go 1.26.0
