import type { KubernetesObject } from '@kubernetes/client-node';
import type { ResourceSyncer } from '../engine/resource-syncer.ts';
import { configMapSyncer } from './configmaps.ts';
import { endpointsSyncer } from './endpoints.ts';
import { ingressSyncer } from './ingresses.ts';
import { persistentVolumeClaimSyncer } from './persistent-volume-claims.ts';
import { type PodSyncerOptions, podSyncer } from './pods.ts';
import { secretSyncer } from './secrets.ts';
import { serviceSyncer } from './services.ts';

export type DefaultSyncersOptions = PodSyncerOptions;

/** Every kind synced by default, in vcluster's default set. */
export function defaultResourceSyncers(
  options: DefaultSyncersOptions = {},
): ResourceSyncer<KubernetesObject, KubernetesObject>[] {
  return [
    podSyncer(options),
    serviceSyncer(),
    endpointsSyncer(),
    configMapSyncer(),
    secretSyncer(),
    persistentVolumeClaimSyncer({ volumeFence: options.volumeFence }),
    ingressSyncer(),
  ] as unknown as ResourceSyncer<KubernetesObject, KubernetesObject>[];
}
