import { join } from 'node:path';
import { CoreV1Api, KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Binaries } from './binaries.ts';
import { ignoreAlreadyExists, ManagedProcess } from './process.ts';

/** The StorageClass the embedded host's provisioner serves, made the cluster's default (k3s' name). */
export const STORAGE_CLASS = 'local-path';
/** The provisioner's name, as StorageClasses name it. */
export const PROVISIONER = 'rancher.io/local-path';
const IDENTITY = 'local-path-provisioner';
const CONFIG_MAP = 'local-path-config';
const NAMESPACE = 'kube-system';
/** The seeded busybox image (see images/recipes.ts): the helper pods make and remove the folders. */
const HELPER_IMAGE = 'docker.io/library/busybox:1.36';

/**
 * What the provisioner reads from its ConfigMap: where volumes go on every node, and the scripts
 * its helper pods run there. Folders are made world-writable (upstream's setup), so that a
 * container running as any user (the chart's etcd runs as 65532) can write its volume. The seeded
 * busybox has few applet links: the scripts call busybox by its path.
 */
export function storageConfig(volumesDir: string): Record<string, string> {
  return {
    'config.json': JSON.stringify({
      nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [volumesDir] }],
    }),
    setup: '#!/bin/sh\nset -eu\n/bin/busybox mkdir -m 0777 -p "$VOL_DIR"\n',
    teardown: '#!/bin/sh\nset -eu\n/bin/busybox rm -rf "$VOL_DIR"\n',
    'helperPod.yaml': stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'helper-pod' },
      spec: { containers: [{ name: 'helper-pod', image: HELPER_IMAGE, imagePullPolicy: 'IfNotPresent' }] },
    }),
  };
}

/**
 * Rancher's local-path-provisioner (k3s' default StorageClass) as the embedded host's dynamic
 * volume provisioner: for each claim of the default StorageClass `local-path` it makes a folder
 * under `volumesDir` on the node the claim's pod was scheduled to (`WaitForFirstConsumer`), through
 * a helper pod, and a hostPath PersistentVolume bound to that node; a deleted claim's folder is
 * removed the same way. It runs as a process of this machine with the admin kubeconfig file.
 */
export async function startStorageProvisioner(options: {
  binaries: Binaries;
  /** Admin kubeconfig (YAML), to make its identity, ConfigMap and StorageClass. */
  kubeconfig: string;
  /** Admin kubeconfig file the provisioner runs with. */
  kubeconfigFile: string;
  /** Where volumes' folders go on the node (the node's own folder: removed when it stops). */
  volumesDir: string;
  logDir: string;
}): Promise<ManagedProcess> {
  const kc = new KubeConfig();
  kc.loadFromString(options.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const storage = kc.makeApiClient(StorageV1Api);
  // The helper pods run as this ServiceAccount (they need no API access).
  await core
    .createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: IDENTITY } } })
    .catch(ignoreAlreadyExists);
  const configMap = { metadata: { name: CONFIG_MAP }, data: storageConfig(options.volumesDir) };
  await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap }).catch(async (error) => {
    ignoreAlreadyExists(error);
    // A host started again in its old folder: the node's folder may have moved.
    await core.replaceNamespacedConfigMap({ name: CONFIG_MAP, namespace: NAMESPACE, body: configMap });
  });
  await storage
    .createStorageClass({
      body: {
        metadata: {
          name: STORAGE_CLASS,
          // Claims without a class get this one, as on k3s.
          annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
        },
        provisioner: PROVISIONER,
        // The folder is made on the node the pod is scheduled to.
        volumeBindingMode: 'WaitForFirstConsumer',
        reclaimPolicy: 'Delete',
      },
    })
    .catch(ignoreAlreadyExists);
  return new ManagedProcess({
    name: 'local-path-provisioner',
    command: options.binaries.path('local-path-provisioner'),
    args: [
      'start',
      `--kubeconfig=${options.kubeconfigFile}`,
      `--namespace=${NAMESPACE}`,
      `--service-account-name=${IDENTITY}`,
      `--configmap-name=${CONFIG_MAP}`,
      `--provisioner-name=${PROVISIONER}`,
      `--helper-image=${HELPER_IMAGE}`,
    ],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logFile: join(options.logDir, 'local-path-provisioner.log'),
  });
}
