import type { V1Ingress, V1IngressStatus } from '@kubernetes/client-node';
import { mergePatch } from '../../kube/patch.ts';
import type { ResourceSyncer, SyncAction, SyncContext } from '../engine/resource-syncer.ts';
import {
  ANY_HOST,
  ingressHostViolations,
  ingressSecretRefs,
  ingressStatusToVirtual,
  ingressToHost,
  ingressUpdateToHost,
} from '../translate/ingress.ts';

const API_VERSION = 'networking.k8s.io/v1';

/** Reason of the Warning event on a virtual ingress whose hosts are outside the preview's domain. */
export const HOST_NOT_ALLOWED_REASON = 'HostNotAllowed';

/** What a person reads in `kubectl get events` when an ingress is held back. */
export function hostNotAllowedMessage(violations: readonly string[], allowedSuffix: string): string {
  const named = violations.map((host) =>
    host === ANY_HOST ? '* (a rule without host, or a default backend, answers for every host)' : host,
  );
  return (
    `ingress not synced: host${named.length > 1 ? 's' : ''} ${named.join(', ')} ` +
    `outside the allowed domain ${allowedSuffix}; use ${allowedSuffix} or a subdomain of it ` +
    `(e.g. app.${allowedSuffix}) in every rule and TLS entry, and it syncs`
  );
}

/**
 * Ingresses: down to the host with backends, TLS secrets and ingress-nginx secret annotations
 * translated, load-balancer status back up. An ingress naming a host outside the preview's domain
 * (`allowedHostSuffix`) is held back (and its host copy removed) with a `HostNotAllowed` warning
 * on the virtual ingress, until its hosts are fixed.
 */
export function ingressSyncer(): ResourceSyncer<V1Ingress> {
  return {
    kind: 'Ingress',
    apiVersion: API_VERSION,
    resource: 'ingresses',
    listVirtual: (virtual) => virtual.networking.listIngressForAllNamespaces(),
    listHost: (host, query) => host.networking.listNamespacedIngress(query),
    deleteHost: (host, request) => host.networking.deleteNamespacedIngress(request),

    shouldSync(context, ingress) {
      const violations = ingressHostViolations(ingress, context.translate);
      if (violations.length === 0) return true;
      const suffix = context.translate.allowedHostSuffix ?? '';
      const message = hostNotAllowedMessage(violations, suffix);
      context.logger.info(
        {
          kind: 'Ingress',
          key: `${ingress.metadata?.namespace}/${ingress.metadata?.name}`,
          violations,
          allowedHostSuffix: suffix,
        },
        'ingress host not allowed; not synced',
      );
      // The recorder writes one event per object and message per minute, however often this runs.
      void context.recorder.warning(
        { ...ingress, kind: 'Ingress', apiVersion: API_VERSION },
        HOST_NOT_ALLOWED_REASON,
        message,
      );
      return false;
    },

    onVirtualEvent(context, ingress) {
      // Secrets are synced only while used: let the secret syncer look at the ones this ingress names.
      if (!ingress.metadata?.name || !ingress.metadata.namespace) return;
      for (const ref of ingressSecretRefs(ingress, context.translate.allowedAnnotations))
        context.enqueue('Secret', `${ref.namespace}/${ref.name}`);
    },

    async syncToHost(context, ingress) {
      await ensureSecretsOnHost(context, ingress);
      await context.host.networking.createNamespacedIngress({
        namespace: context.translate.hostNamespace,
        body: ingressToHost(ingress, context.translate),
      });
      return 'create';
    },

    async sync(context, ingress, hostIngress) {
      const { host, virtual, translate } = context;
      let action: SyncAction = 'none';
      const status = ingressStatusToVirtual(hostIngress, ingress);
      if (status) {
        await virtual.networking.patchNamespacedIngressStatus(
          {
            name: ingress.metadata?.name ?? '',
            namespace: ingress.metadata?.namespace ?? '',
            body: { status: statusMergePatch(status) },
          },
          mergePatch,
        );
        action = 'status';
      }
      const patch = ingressUpdateToHost(ingress, hostIngress, translate);
      if (patch) {
        await ensureSecretsOnHost(context, ingress);
        await host.networking.patchNamespacedIngress(
          { name: hostIngress.metadata?.name ?? '', namespace: translate.hostNamespace, body: patch },
          mergePatch,
        );
        action = 'update';
      }
      return action;
    },
  };
}

/**
 * A merge patch merges objects key by key: an emptied load balancer must say `ingress: null`, or
 * the addresses shown before would stay.
 */
function statusMergePatch(status: V1IngressStatus): Record<string, unknown> {
  const loadBalancer = status.loadBalancer ?? {};
  return {
    ...status,
    loadBalancer: { ...loadBalancer, ingress: loadBalancer.ingress?.length ? loadBalancer.ingress : null },
  };
}

/** The TLS and annotation secrets an ingress names go to the host before the ingress does. */
async function ensureSecretsOnHost(context: SyncContext, ingress: V1Ingress): Promise<void> {
  await Promise.all(
    ingressSecretRefs(ingress, context.translate.allowedAnnotations)
      .filter((ref) => context.virtualCache('Secret').get(ref.name, ref.namespace))
      .map((ref) => context.reconcileNow('Secret', `${ref.namespace}/${ref.name}`)),
  );
}
