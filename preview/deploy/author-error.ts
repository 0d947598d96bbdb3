import { REPO_CONFIG_PATH, RepoConfigError, SubstitutionError } from '../repo-config.ts';
import { DeployError } from './apply.ts';
import { ManifestError } from './render.ts';
import { UndeclaredVariableError } from './resolve-variables.ts';
import { RolloutError } from './rollout.ts';
import { PreviewHostError } from './url.ts';

/**
 * Whether only the author of the repository's files can fix an error, and where: its config file,
 * the files it names, or the objects they render (the API server refused them as invalid:
 * 400/404/422). A retry cannot fix these; a change to the files can.
 */
export type AuthorFix = 'config' | 'files' | 'objects' | 'variables';

export function authorFix(error: unknown): AuthorFix | undefined {
  if (
    error instanceof RepoConfigError ||
    error instanceof SubstitutionError ||
    error instanceof PreviewHostError
  )
    return 'config';
  if (error instanceof ManifestError) return 'files';
  if (error instanceof UndeclaredVariableError) return 'variables';
  if (
    error instanceof DeployError &&
    error.failures.every((f) => f.status !== undefined && [400, 404, 422].includes(f.status))
  )
    return 'objects';
  // Past a limit of the preview's own (the host quota, its store): a retry gets the same answer.
  if (
    (error instanceof RolloutError && error.hostQuotaFull) ||
    (error instanceof DeployError && error.storeFull)
  )
    return 'objects';
  return undefined;
}

/** What to fix, for each kind, before the way to try again (push a commit, run again). */
export const AUTHOR_FIX_HINTS: Record<AuthorFix, string> = {
  config: `fix ${REPO_CONFIG_PATH}`,
  files: 'fix the files named above',
  objects: 'fix the objects named above in your manifests',
  variables: `declare each name under variables: in ${REPO_CONFIG_PATH} with its default value, or take it out of the workflow's variables: input`,
};
