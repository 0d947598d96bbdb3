import { hostLabel } from './deploy/url.ts';
import { labels, type VirtualClusterInfo } from './provider.ts';

type Holder = Pick<VirtualClusterInfo, 'labels' | 'namespace' | 'createdAt'>;

/** Made first (by creation time, then by namespace name for one instant): the one that keeps the host. */
const cameFirst = (a: Holder, b: Holder) =>
  (a.createdAt ?? '') < (b.createdAt ?? '') ||
  ((a.createdAt ?? '') === (b.createdAt ?? '') && a.namespace < b.namespace);

/**
 * The live virtual cluster other than the one in `namespace` that already holds `host`, whatever
 * made it (a pull request's preview or a working tree's): a host serves one preview, so a second one
 * whose URL gives the same name is refused rather than served the first's app.
 *
 * Asked again once the one in `namespace` carries the host too (two made at once both passed the
 * first look): then only a virtual cluster made before it holds the host, so exactly one of two
 * racing previews keeps it.
 */
export function hostHolder<T extends Holder>(
  previews: readonly T[],
  host: string,
  namespace: string,
): T | undefined {
  const digest = hostLabel(host);
  const holding = previews.filter((preview) => preview.labels[labels.host] === digest);
  const own = holding.find((preview) => preview.namespace === namespace);
  return holding.find((preview) => preview.namespace !== namespace && (!own || cameFirst(preview, own)));
}
