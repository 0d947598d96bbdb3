import type { VirtualClusterProvider, VirtualClusterRef } from './provider.ts';
import { summarizeSyncerLog } from './syncer-log.ts';

/**
 * The last lines the syncer logged, as a paragraph of a failure message (a deploy that fails often
 * fails in the host cluster: a pod refused, a name taken, and the syncer saw it); empty when none
 * can be read, after telling `onError` why.
 */
export async function syncerSaw(
  provider: VirtualClusterProvider,
  ref: VirtualClusterRef,
  onError: (error: unknown) => void,
): Promise<string> {
  try {
    const lines = summarizeSyncerLog(await provider.syncerLog(ref, 400), 15);
    return lines.length > 0 ? `\n\nWhat the syncer saw last:\n${lines.join('\n')}` : '';
  } catch (error) {
    onError(error);
    return '';
  }
}
