import type { CreateOptions, VirtualClusterInfo, VirtualClusterProvider } from './provider.ts';

/** Reset: the same name, an empty virtual cluster — delete everything, then create anew. */
export async function resetVirtualCluster(
  provider: VirtualClusterProvider,
  options: CreateOptions,
): Promise<VirtualClusterInfo> {
  await provider.delete({ name: options.name, namespace: options.namespace });
  return provider.create(options);
}
