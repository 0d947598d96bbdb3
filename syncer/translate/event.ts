import type { CoreV1Event } from '@kubernetes/client-node';
import { deepEqual, type Nullable } from './equal.ts';

/**
 * Kinds whose host events are copied up (vcluster: Pod, Service, Endpoints, Secret, ConfigMap; we add
 * PersistentVolumeClaim and Ingress, whose provisioning and controller events matter to a preview).
 */
export const SYNCED_EVENT_KINDS: Readonly<Record<string, string>> = {
  Pod: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  Secret: 'v1',
  ConfigMap: 'v1',
  PersistentVolumeClaim: 'v1',
  Ingress: 'networking.k8s.io/v1',
};

/** The virtual object a host event is about, as the engine resolved it from the host object. */
export interface VirtualInvolvedObject {
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

/** Whether a host event is about a kind whose events are synced up. */
export function isSyncedEventKind(hostEvent: CoreV1Event): boolean {
  const ref = hostEvent.involvedObject;
  const apiVersion = ref.kind ? SYNCED_EVENT_KINDS[ref.kind] : undefined;
  return apiVersion !== undefined && (ref.apiVersion ?? 'v1') === apiVersion;
}

/** Event names start with the involved object's name (`<name>.<hex>`): swap in the virtual name. */
export function virtualEventName(
  hostEventName: string,
  hostObjectName: string,
  virtualObjectName: string,
): string {
  if (hostObjectName === '' || !hostEventName.startsWith(hostObjectName)) return hostEventName;
  return virtualObjectName + hostEventName.slice(hostObjectName.length);
}

/**
 * The virtual event for a host event about a synced object: same reason, counts and times, pointing
 * at the virtual object, with host names in the message replaced by virtual ones.
 */
export function eventToVirtual(hostEvent: CoreV1Event, involved: VirtualInvolvedObject): CoreV1Event {
  const event: CoreV1Event = structuredClone(hostEvent);
  const hostRef = hostEvent.involvedObject;
  const hostObjectName = hostRef.name ?? '';
  const hostEventName = hostEvent.metadata.name ?? '';

  event.metadata = {
    name: virtualEventName(hostEventName, hostObjectName, involved.name),
    namespace: involved.namespace,
  };
  if (hostEvent.metadata.labels) event.metadata.labels = structuredClone(hostEvent.metadata.labels);
  if (hostEvent.metadata.annotations)
    event.metadata.annotations = structuredClone(hostEvent.metadata.annotations);

  event.involvedObject = { ...event.involvedObject, namespace: involved.namespace, name: involved.name };
  if (involved.uid !== undefined) event.involvedObject.uid = involved.uid;
  else delete event.involvedObject.uid;
  if (involved.resourceVersion !== undefined) event.involvedObject.resourceVersion = involved.resourceVersion;
  else delete event.involvedObject.resourceVersion;
  // the related object is a host object the virtual cluster does not know
  delete event.related;

  if (event.message && hostObjectName) {
    event.message = event.message
      .replaceAll(`${hostRef.namespace}/${hostObjectName}`, `${involved.namespace}/${involved.name}`)
      .replaceAll(hostObjectName, involved.name);
  }
  return event;
}

/**
 * Fields to patch on an existing virtual event so it matches the host event (counts, times, message),
 * or undefined when nothing changed.
 */
export function eventUpdateToVirtual(
  hostEvent: CoreV1Event,
  vEvent: CoreV1Event,
  involved: VirtualInvolvedObject,
): Nullable<Omit<CoreV1Event, 'metadata'>> | undefined {
  const desired = eventToVirtual(hostEvent, involved);
  const patch: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(desired), ...Object.keys(vEvent)]);
  for (const key of keys) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind') continue;
    const want = (desired as unknown as Record<string, unknown>)[key];
    const have = (vEvent as unknown as Record<string, unknown>)[key];
    if (!deepEqual(want, have)) patch[key] = want === undefined ? null : structuredClone(want);
  }
  return Object.keys(patch).length > 0 ? (patch as Nullable<Omit<CoreV1Event, 'metadata'>>) : undefined;
}
