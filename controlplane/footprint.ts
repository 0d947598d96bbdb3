import type { BinaryName } from './versions.ts';

/*
 * What keeps an idle virtual control plane small. A virtual cluster idles most of its life, has no
 * nodes of its own and runs its pods on the host through the syncer, so it can do without what
 * only nodes, schedulers and drivers use. Savings are resident memory 3 s after ready, measured on
 * this project's 2-core machines (Kubernetes v1.36, etcd v3.6), against the same cluster without
 * the setting.
 */

/**
 * API groups and resources a virtual cluster does not serve: nothing in it could act on them.
 * Each served resource costs the API server about 1 MB (storage, its own etcd client, handlers,
 * OpenAPI): these 13 MB less for the control plane, and 0.7 s less CPU for the API server to start.
 * Everything kubectl and helm users deploy stays: core, apps, batch, autoscaling, policy,
 * networking, RBAC, CRDs, admission webhooks and policies, leases, certificate signing requests,
 * priority classes, runtime classes (pods are admitted against them), storage classes, CSI drivers.
 * Tried and not worth it: --watch-cache=false (within noise), leaving out the default admission
 * plugins or certificates.k8s.io (1 MB or less), beta feature gates such as ListFromCacheSnapshot.
 */
export const virtualRuntimeConfig = [
  // Dynamic resource allocation: claims need a scheduler and node drivers, which only the host has.
  'resource.k8s.io/v1=false',
  // Priority and fairness is off (--enable-priority-and-fairness=false): its objects would do nothing.
  'flowcontrol.apiserver.k8s.io/v1=false',
  // Written by kubelets, the attach-detach controller and the scheduler, none of which run here.
  'storage.k8s.io/v1/csinodes=false',
  'storage.k8s.io/v1/volumeattachments=false',
  'storage.k8s.io/v1/csistoragecapacities=false',
];

/** Controllers of the API groups left out above. */
export const virtualDisabledControllers = ['resourceclaim-controller', 'device-taint-eviction-controller'];

/**
 * Without it the resource quota controller watches resource claims and device classes (extended
 * resources backed by dynamic resource allocation), and retries those lists forever.
 */
export const virtualControllerManagerArgs = ['--feature-gates=DRAExtendedResource=false'];

/**
 * In one process the API server and the controller manager share their feature gates: the API
 * server is given the same setting (harmless without resource.k8s.io), so the controller manager
 * starting later changes no gate under a running server.
 */
export const virtualApiServerArgs = virtualControllerManagerArgs;

/**
 * Go runtime settings per process. GOGC below the default 100 collects garbage more often, which
 * an idle server hardly notices: GOGC=25 took about 60 MB off the three servers. The API server
 * holds most of the heap (about 75 MB live, a third of it OpenAPI): GOGC=15 takes another 8-9 MB
 * off it for about 0.6 s more CPU while it starts, no more CPU when idle (GOGC=10: 1 MB more for
 * 1.5 s more CPU). Lower for etcd and the controller manager saved 1 MB. GOMEMLIMIT is not set: its
 * floor is what a process needs, and under that it collects without pause (110 MiB for the API
 * server: 58% CPU while idle). A GOGC in the environment wins.
 */
export function virtualGoEnvironment(component: BinaryName): Record<string, string> {
  // vcontrolplane: the API server's heap is most of the one process's heap.
  const gogc = component === 'kube-apiserver' || component === 'vcontrolplane' ? '15' : '25';
  return { GOGC: process.env.GOGC ?? gogc };
}
