import { type PreviewWakeAccess, previewWakeAccess, readHostKubeconfig } from '../../preview/index.ts';

/**
 * The waker's view of the host cluster, opened on the first request for a preview host: a web
 * process starts without the cluster, as the status endpoints do (api/host-lookup.ts).
 */
export function lazyWakeAccess(
  kubeconfigPath: string | undefined,
): Pick<PreviewWakeAccess, 'find' | 'readyBackend' | 'state'> {
  let opened: Promise<PreviewWakeAccess> | undefined;
  const open = () => {
    opened ??= readHostKubeconfig(kubeconfigPath)
      .then(previewWakeAccess)
      .catch((error: unknown) => {
        opened = undefined;
        throw error;
      });
    return opened;
  };
  return {
    find: async (host) => (await open()).find(host),
    readyBackend: async (target) => (await open()).readyBackend(target),
    state: async (namespace) => (await open()).state(namespace),
  };
}
