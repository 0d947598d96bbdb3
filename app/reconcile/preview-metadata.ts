import { createHash } from 'node:crypto';
import { annotations, labels } from '../../preview/provider.ts';

/**
 * The labels and annotations that say, on the host namespace, which pull request a preview serves
 * and at which commit: the host cluster is the source of truth for what exists (the sweeper reads them).
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

export function previewLabels(repo: string, pr: number): Record<string, string> {
  return { [labels.repo]: repoLabel(repo), [labels.pullRequest]: String(pr) };
}

export function previewAnnotations(repo: string, sha: string, now = new Date()): Record<string, string> {
  return {
    [REPO_ANNOTATION]: repo,
    [annotations.commit]: sha,
    [annotations.lastActivity]: now.toISOString(),
  };
}
