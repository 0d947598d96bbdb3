import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { ignoreNotFound, isConflict } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import { deleteHostObject } from '../engine/delete-host-object.ts';
import {
  type DeleteHost,
  RequeueAfter,
  type ResourceSyncer,
  type SyncAction,
  type SyncContext,
} from '../engine/resource-syncer.ts';
import { type PodSecurityLevel, podSecurityMessage, podSecurityViolations } from '../policy/pod-security.ts';
import { type VolumeFenceOptions, volumeRefusals } from '../policy/volume-fence.ts';
import type { TranslateContext } from '../translate/context.ts';
import { hostName } from '../translate/names.ts';
import {
  dnsServiceIPFor,
  droppedSchedulingFields,
  type PodExtras,
  podNodeNameToVirtual,
  podReferences,
  podServiceAccountTokens,
  podStatusToVirtual,
  podToHost,
  podUpdateToHost,
  usesClusterDns,
  VIRTUAL_DNS_SERVICE,
} from '../translate/pod.ts';

export interface PodSyncerOptions {
  /** Host service account synced pods run as (the chart's `vc-workload-<name>`); default: the namespace's default. */
  workloadServiceAccount?: string;
  /**
   * Pod Security Standard enforced on virtual pods (vcluster's `--enforce-pod-security`): a pod
   * that violates it gets no host pod, only a `PodSecurityViolation` event, and stays Pending.
   * Default: privileged (no checks).
   */
  podSecurityStandard?: PodSecurityLevel;
  /** Volume types, CSI drivers and storage classes a pod may use on the host (policy/volume-fence.ts). */
  volumeFence?: VolumeFenceOptions;
}

export const POD_SECURITY_VIOLATION_REASON = 'PodSecurityViolation';
/** Event reason when a pod names a volume the host does not take from previews. */
export const VOLUME_TYPE_REFUSED_REASON = 'VolumeTypeRefused';
/** Event reason when scheduling fields of a virtual pod were left out of its host pod. */
export const SCHEDULING_DROPPED_REASON = 'SchedulingFieldsDropped';

const deleteHost: DeleteHost = (host, request) => host.core.deleteNamespacedPod(request);

/**
 * Pods: down to the host (which schedules and runs them), status and node binding back up.
 * A host pod that disappears takes its virtual pod with it, so the virtual controller recreates it.
 */
export function podSyncer(options: PodSyncerOptions = {}): ResourceSyncer<V1Pod> {
  const extrasFor = (context: SyncContext, pod: V1Pod): PodExtras => ({
    services: [...context.virtualCache<V1Service>('Service').list(pod.metadata?.namespace)],
    workloadServiceAccount: options.workloadServiceAccount,
  });

  return {
    kind: 'Pod',
    apiVersion: 'v1',
    resource: 'pods',
    listVirtual: (virtual) => virtual.core.listPodForAllNamespaces(),
    listHost: (host, query) => host.core.listNamespacedPod(query),
    deleteHost,
    onVirtualEvent(context, pod) {
      // The objects a pod uses are synced only while used: let their syncers look again.
      const namespace = pod.metadata?.namespace ?? '';
      const refs = podReferences(pod);
      for (const name of refs.configMaps) context.enqueue('ConfigMap', `${namespace}/${name}`);
      for (const name of refs.secrets) context.enqueue('Secret', `${namespace}/${name}`);
      if (pod.spec?.nodeName) context.enqueue('Node', pod.spec.nodeName);
    },

    async syncToHost(context, pod) {
      if (pod.metadata?.deletionTimestamp || pod.spec?.nodeName) {
        // Terminating without a host pod, or bound but its host pod is gone: no kubelet will ever
        // finish it here, so remove it now; its controller makes a new one.
        await deleteVirtualPod(context, pod);
        return 'delete';
      }
      // Judged on the virtual pod: translation turns `ephemeral` into a claim reference.
      const refused = volumeRefusals(pod.spec, options.volumeFence);
      if (refused.length > 0) {
        void context.recorder.warning(
          { ...pod, kind: 'Pod', apiVersion: 'v1' },
          VOLUME_TYPE_REFUSED_REASON,
          `not synced to the host: ${refused.join('; ')}`,
        );
        return 'skip';
      }
      const translate = withDnsServiceIP(context, pod);
      const hostPod = podToHost(pod, translate, extrasFor(context, pod));
      const level = options.podSecurityStandard ?? 'privileged';
      // Judged on what would reach the host, as vcluster does.
      const violations = podSecurityViolations(hostPod, level);
      if (violations.length > 0) {
        // Retried on every change of the pod; the recorder writes the same message once a minute.
        void context.recorder.warning(
          { ...pod, kind: 'Pod', apiVersion: 'v1' },
          POD_SECURITY_VIOLATION_REASON,
          podSecurityMessage(level, violations),
        );
        return 'skip';
      }
      const dropped = droppedSchedulingFields(pod);
      if (dropped.length > 0) {
        void context.recorder.warning(
          { ...pod, kind: 'Pod', apiVersion: 'v1' },
          SCHEDULING_DROPPED_REASON,
          `${dropped.join(', ')} left out on the host: where previews run (nodes, taints, runtime, scheduler, priority) is the operator's choice`,
        );
      }
      await context.timed('Pod', 'references', () => ensureReferencesOnHost(context, pod));
      // Minted only for a pod that passed the checks; they go into the host pod's own annotations,
      // so the pod and its tokens are one write and can never exist one without the other.
      const tokens = await context.timed('Pod', 'token', () => mintTokens(context, pod));
      await context.timed('Pod', 'host-create', () =>
        context.host.core.createNamespacedPod({
          namespace: context.translate.hostNamespace,
          body: tokens ? podToHost(pod, translate, { ...extrasFor(context, pod), tokens }) : hostPod,
        }),
      );
      return 'create';
    },

    async sync(context, pod, hostPod) {
      const { host, virtual, translate } = context;
      const name = pod.metadata?.name ?? '';
      const namespace = pod.metadata?.namespace ?? '';
      if (pod.metadata?.deletionTimestamp) {
        return deleteHostObject(context, hostPod, deleteHost, {
          gracePeriodSeconds: pod.metadata.deletionGracePeriodSeconds,
        });
      }
      let action: SyncAction = 'none';
      const node = podNodeNameToVirtual(hostPod, pod);
      if (node) {
        await context.timed('Pod', 'binding', () =>
          virtual.core.createNamespacedPodBinding({
            name,
            namespace,
            body: { metadata: { name, namespace }, target: { kind: 'Node', name: node } },
          }),
        );
        context.enqueue('Node', node);
        action = 'status';
      }
      const status = podStatusToVirtual(hostPod, pod);
      if (status) {
        await context.timed('Pod', 'status', () =>
          virtual.core.patchNamespacedPodStatus({ name, namespace, body: { status } }, mergePatch),
        );
        action = 'status';
      }
      const patch = podUpdateToHost(pod, hostPod, translate, extrasFor(context, pod));
      if (patch) {
        await host.core.patchNamespacedPod(
          { name: hostPod.metadata?.name ?? '', namespace: translate.hostNamespace, body: patch },
          mergePatch,
        );
        action = 'update';
      }
      return action;
    },
  };
}

/**
 * The translation context with the virtual cluster's DNS service as the pod's nameserver: the host
 * ClusterIP of the synced `kube-system/kube-dns`. A pod that resolves through the cluster DNS waits
 * (requeued) while that Service exists in the virtual cluster but not yet on the host.
 */
function withDnsServiceIP(context: SyncContext, pod: V1Pod): TranslateContext {
  const { translate } = context;
  if (!usesClusterDns(pod.spec)) return translate;
  const { namespace, name } = VIRTUAL_DNS_SERVICE;
  const ip = dnsServiceIPFor({
    configured: translate.dnsServiceIP,
    virtualService: context.virtualCache<V1Service>('Service').get(name, namespace),
    hostService: context
      .hostCache<V1Service>('Service')
      .get(hostName(name, namespace, translate.vclusterName), translate.hostNamespace),
  });
  if (ip === 'wait')
    throw new RequeueAfter(1000, `waiting for ${namespace}/${name} to be synced to the host`);
  return ip ? { ...translate, dnsServiceIP: ip } : translate;
}

async function deleteVirtualPod(context: SyncContext, pod: V1Pod): Promise<void> {
  try {
    await context.virtual.core.deleteNamespacedPod({
      name: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace ?? '',
      gracePeriodSeconds: 0,
      body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
    });
  } catch (error) {
    // 409: the UID precondition failed, a newer pod holds the name; ours is gone either way.
    if (!isConflict(error)) ignoreNotFound(error);
  }
}

/** A host pod must not start before the ConfigMaps, Secrets and PVCs it names exist on the host. */
async function ensureReferencesOnHost(context: SyncContext, pod: V1Pod): Promise<void> {
  const namespace = pod.metadata?.namespace ?? '';
  const refs = podReferences(pod);
  const work: Promise<void>[] = [];
  for (const [kind, names] of [
    ['ConfigMap', refs.configMaps],
    ['Secret', refs.secrets],
    ['PersistentVolumeClaim', refs.persistentVolumeClaims],
  ] as const) {
    for (const name of names) {
      if (context.virtualCache(kind).get(name, namespace))
        work.push(context.reconcileNow(kind, `${namespace}/${name}`));
    }
  }
  await Promise.all(work);
}

/**
 * Mints the tokens for the pod's projected service-account volumes against the virtual API server
 * (bound to the virtual pod, as kubelet would), by host annotation; undefined when it has none.
 */
async function mintTokens(context: SyncContext, pod: V1Pod): Promise<Record<string, string> | undefined> {
  const requests = podServiceAccountTokens(pod, context.translate);
  if (requests.length === 0) return undefined;
  const minted = await Promise.all(
    requests.map(async (request) => {
      const response = await context.virtual.core.createNamespacedServiceAccountToken({
        name: request.serviceAccountName,
        namespace: pod.metadata?.namespace ?? '',
        body: {
          spec: {
            audiences: request.audiences,
            expirationSeconds: request.expirationSeconds,
            boundObjectRef: {
              apiVersion: 'v1',
              kind: 'Pod',
              name: request.boundPod.name,
              uid: request.boundPod.uid,
            },
          },
        },
      });
      const token = response.status?.token;
      // An empty annotation would give the container an empty token file: fail and retry instead.
      if (!token) throw new Error(`TokenRequest for ${request.serviceAccountName} returned no token`);
      return [request.annotation, token] as const;
    }),
  );
  return Object.fromEntries(minted);
}
