import { createHash } from 'node:crypto';
import { annotations, hostHolder, labels, type VirtualClusterInfo } from '../preview/index.ts';

/**
 * The labels and annotations that say, on the host namespace, which pull request a preview serves
 * and at which commit: the host cluster is the source of truth for what exists (the sweeper and the
 * preview cap read them back with `readPreviewMetadata`).
 */

/** Annotation with the repository's full name, exactly as GitHub spells it (labels cannot hold `/`). */
export const REPO_ANNOTATION = labels.repo;

const labelValue = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** `owner.repo`, a valid label value; cut and given a hash when longer than 63 characters. */
export function repoLabel(fullName: string): string {
  const value = fullName.replace('/', '.').replace(/[^-A-Za-z0-9_.]/g, '-');
  if (value.length <= 63 && labelValue.test(value)) return value;
  const hash = createHash('sha256').update(fullName).digest('hex').slice(0, 10);
  return `${value.slice(0, 52).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`;
}

/**
 * A label, not an annotation, for the installation: the cap counts live previews per installation
 * with a label selector, and the sweeper needs it to ask GitHub about the pull request.
 */
export function previewLabels(repo: string, pr: number, installationId?: number): Record<string, string> {
  return {
    [labels.repo]: repoLabel(repo),
    [labels.pullRequest]: String(pr),
    ...(installationId !== undefined ? { [labels.installation]: String(installationId) } : {}),
  };
}

/**
 * Who holds `host` besides the preview in `namespace`, in words: a pull request's preview by its
 * `repo#pr`, a working tree's (or any other) by its virtual cluster (`hostHolder`).
 */
export function previewHoldingHost(
  previews: Pick<VirtualClusterInfo, 'name' | 'namespace' | 'labels' | 'annotations' | 'createdAt'>[],
  host: string,
  namespace: string,
): string | undefined {
  const holder = hostHolder(previews, host, namespace);
  if (!holder) return undefined;
  const metadata = readPreviewMetadata(holder);
  return metadata
    ? `the preview of ${metadata.repo}#${metadata.pr}`
    : `virtual cluster ${holder.name} (namespace ${holder.namespace})`;
}

/** The repo config's lifetimes, as written (`7d`, `1h`). */
export interface PreviewLifetime {
  ttl: string;
  sleepAfter: string;
}

export function previewAnnotations(
  repo: string,
  sha: string,
  now = new Date(),
  lifetime?: PreviewLifetime,
): Record<string, string> {
  return {
    [REPO_ANNOTATION]: repo,
    [annotations.commit]: sha,
    [annotations.lastActivity]: now.toISOString(),
    ...(lifetime ? { [annotations.ttl]: lifetime.ttl, [annotations.sleepAfter]: lifetime.sleepAfter } : {}),
  };
}

/** What the marks of a preview's host namespace say; fields are missing on namespaces made by older versions. */
export interface PreviewMetadata {
  repo: string;
  pr: number;
  installationId?: number;
  lastActivity?: string;
  ttl?: string;
  sleepAfter?: string;
}

const positiveInt = (text: string | undefined): number | undefined =>
  text !== undefined && /^[1-9]\d*$/.test(text) ? Number(text) : undefined;

/** The pull request a virtual cluster serves, or undefined for one that is no preview (made by the CLI). */
export function readPreviewMetadata(
  info: Pick<VirtualClusterInfo, 'labels' | 'annotations'>,
): PreviewMetadata | undefined {
  const repo = info.annotations[REPO_ANNOTATION];
  const pr = positiveInt(info.labels[labels.pullRequest]);
  if (!repo?.includes('/') || pr === undefined) return undefined;
  const installationId = positiveInt(info.labels[labels.installation]);
  const lastActivity = info.annotations[annotations.lastActivity];
  const ttl = info.annotations[annotations.ttl];
  const sleepAfter = info.annotations[annotations.sleepAfter];
  return {
    repo,
    pr,
    ...(installationId !== undefined ? { installationId } : {}),
    ...(lastActivity ? { lastActivity } : {}),
    ...(ttl ? { ttl } : {}),
    ...(sleepAfter ? { sleepAfter } : {}),
  };
}
