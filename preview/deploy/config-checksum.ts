import { createHash } from 'node:crypto';
import type { KubernetesObject, V1PodSpec } from '@kubernetes/client-node';

/**
 * On a pod template: a digest of the ConfigMaps and Secrets of the same deploy that its pods read.
 * A push that changes only their content (a page, a setting) then rolls the workload, as Helm
 * charts do with a `checksum/config` annotation: kubelet would otherwise refresh a mounted ConfigMap
 * only after a minute or more, and never an environment variable.
 */
export const CONFIG_CHECKSUM_ANNOTATION = 'vcluster-preview.dev/config-checksum';

/** The names of the ConfigMaps and Secrets a pod spec reads (volumes, projected volumes, env). */
export function configReferences(spec: V1PodSpec): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const volume of spec.volumes ?? []) {
    if (volume.configMap?.name) configMaps.add(volume.configMap.name);
    if (volume.secret?.secretName) secrets.add(volume.secret.secretName);
    for (const source of volume.projected?.sources ?? []) {
      if (source.configMap?.name) configMaps.add(source.configMap.name);
      if (source.secret?.name) secrets.add(source.secret.name);
    }
  }
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef?.name) configMaps.add(from.configMapRef.name);
      if (from.secretRef?.name) secrets.add(from.secretRef.name);
    }
    for (const variable of container.env ?? []) {
      if (variable.valueFrom?.configMapKeyRef?.name) configMaps.add(variable.valueFrom.configMapKeyRef.name);
      if (variable.valueFrom?.secretKeyRef?.name) secrets.add(variable.valueFrom.secretKeyRef.name);
    }
  }
  return { configMaps, secrets };
}

type DataObject = KubernetesObject & {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  stringData?: Record<string, string>;
};

interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec?: V1PodSpec;
}

/** Kinds whose pod template may change and then rolls their pods (not Jobs or bare Pods: immutable). */
const ROLLING_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

function templateOf(object: KubernetesObject): PodTemplate | undefined {
  const spec = (
    object as { spec?: { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } } }
  ).spec;
  if (ROLLING_KINDS.has(object.kind ?? '')) return spec?.template;
  if (object.kind === 'CronJob') return spec?.jobTemplate?.spec?.template;
  return undefined;
}

/**
 * Annotates the pod template of each workload in `objects` with the digest of the ConfigMaps and
 * Secrets among `objects` it reads, in its namespace. A workload that reads none of them, a Job and
 * a bare Pod are left as they are.
 */
export function annotateConfigChecksums(objects: readonly KubernetesObject[]): void {
  const byKey = new Map<string, DataObject>();
  for (const object of objects) {
    if ((object.kind === 'ConfigMap' || object.kind === 'Secret') && (object.apiVersion ?? 'v1') === 'v1') {
      byKey.set(
        `${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`,
        object as DataObject,
      );
    }
  }
  for (const object of objects) {
    const template = templateOf(object);
    if (!template?.spec) continue;
    const namespace = object.metadata?.namespace;
    const { configMaps, secrets } = configReferences(template.spec);
    const used = [
      ...[...configMaps].map((name) => byKey.get(`ConfigMap/${namespace}/${name}`)),
      ...[...secrets].map((name) => byKey.get(`Secret/${namespace}/${name}`)),
    ].filter((found): found is DataObject => found !== undefined);
    if (used.length === 0) continue;
    const hash = createHash('sha256');
    for (const source of used.sort((a, b) => keyOf(a).localeCompare(keyOf(b)))) {
      hash.update(keyOf(source));
      hash.update(
        JSON.stringify([sorted(source.data), sorted(source.binaryData), sorted(source.stringData)]),
      );
    }
    template.metadata = template.metadata ?? {};
    template.metadata.annotations = {
      ...template.metadata.annotations,
      [CONFIG_CHECKSUM_ANNOTATION]: hash.digest('hex').slice(0, 16),
    };
  }
}

const keyOf = (object: KubernetesObject) => `${object.kind}/${object.metadata?.name}`;
const sorted = (map: Record<string, string> | undefined) =>
  Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b));
