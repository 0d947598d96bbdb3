import { jobIdFor } from '../desired-state.ts';

/**
 * Where a person reads what happened: the sticky comment on the pull request's page. Built from the
 * API's base URL: `api.github.com` → `github.com`, a GitHub Enterprise Server's `/api/v3` dropped.
 */
export function stickyCommentUrl(
  apiBaseUrl: string,
  repo: string,
  pr: number,
  commentId: number | undefined,
): string {
  const url = new URL(apiBaseUrl);
  const web =
    url.hostname === 'api.github.com'
      ? 'https://github.com'
      : `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/+$/, '')}`;
  return `${web}/${repo}/pull/${pr}${commentId === undefined ? '' : `#issuecomment-${commentId}`}`;
}

/** The preview's entry on the service's status page (`GET /previews/<key>`): its steps, error and syncer lines. */
export function statusPageEntryUrl(publicUrl: string, repo: string, pr: number): string {
  return `${publicUrl}/previews/${encodeURIComponent(jobIdFor(repo, pr))}`;
}
