import { hostLabel } from './deploy/url.ts';
import { labels, type VirtualClusterInfo } from './provider.ts';

/**
 * The live virtual cluster other than the one in `namespace` that already holds `host`, whatever
 * made it (a pull request's preview or a working tree's): a host serves one preview, so a second one
 * whose URL gives the same name is refused rather than served the first's app.
 */
export function hostHolder<T extends Pick<VirtualClusterInfo, 'labels' | 'namespace'>>(
  previews: readonly T[],
  host: string,
  namespace: string,
): T | undefined {
  const digest = hostLabel(host);
  return previews.find(
    (preview) => preview.labels[labels.host] === digest && preview.namespace !== namespace,
  );
}
