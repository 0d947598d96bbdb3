import type { PermissionLevel } from '../commands.ts';
import { httpStatusOf } from './http-error.ts';
import type { GitHubClient } from './reporter.ts';

const KNOWN_LEVELS = new Set<PermissionLevel>(['admin', 'maintain', 'write', 'triage', 'read', 'none']);

/** What `username` may do on `owner/repo`: GitHub's role name, or the classic permission for custom roles. */
export async function permissionOf(
  octokit: GitHubClient,
  owner: string,
  repo: string,
  username: string,
): Promise<PermissionLevel> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
    // `role_name` knows maintain and triage; custom roles fall back to the classic `permission`.
    const role = (data as { role_name?: string }).role_name as PermissionLevel | undefined;
    if (role && KNOWN_LEVELS.has(role)) return role;
    return KNOWN_LEVELS.has(data.permission as PermissionLevel)
      ? (data.permission as PermissionLevel)
      : 'none';
  } catch (error) {
    // Not a collaborator at all (GitHub answers 404 for some of those): no permission.
    if (httpStatusOf(error) === 404) return 'none';
    throw error;
  }
}
