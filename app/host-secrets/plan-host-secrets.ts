import type { HostSecretCopy, RepoConfig } from '../../preview/index.ts';
import { BadConfigError } from '../errors/bad-config-error.ts';

/**
 * Which host Secrets a preview gets: those its config asks for, each allowed for the repository by
 * the operator's PREVIEW_HOST_SECRETS, and none at all for a pull request from a fork (its code
 * would run with them). A name the operator did not allow is the config's mistake: BadConfigError.
 */

/** Host Secret names by repository pattern: `owner/repo`, `owner/*` or `*`. */
export type HostSecretAllowlist = Readonly<Record<string, readonly string[]>>;

export interface HostSecretPlan {
  copies: HostSecretCopy[];
  /** Names asked for and not copied, with why: for the sticky comment. */
  withheld?: { names: string[]; reason: string };
}

/** What PREVIEW_HOST_SECRETS allows `repo` (`owner/name`): its own entry, its owner's `owner/*` and `*`. */
export function allowedHostSecrets(allowlist: HostSecretAllowlist, repo: string): Set<string> {
  const [owner = ''] = repo.split('/');
  const wanted = new Set([repo.toLowerCase(), `${owner.toLowerCase()}/*`, '*']);
  return new Set(
    Object.entries(allowlist)
      .filter(([pattern]) => wanted.has(pattern.toLowerCase()))
      .flatMap(([, names]) => names),
  );
}

export function planHostSecrets(options: {
  secrets: RepoConfig['secrets'];
  repo: string;
  isFork: boolean;
  allowlist: HostSecretAllowlist;
}): HostSecretPlan {
  const secrets = options.secrets ?? [];
  if (secrets.length === 0) return { copies: [] };
  const allowed = allowedHostSecrets(options.allowlist, options.repo);
  const refused = [...new Set(secrets.map((secret) => secret.fromHostSecret))].filter(
    (name) => !allowed.has(name),
  );
  if (refused.length > 0) {
    throw new BadConfigError(
      `secrets: the host Secret${refused.length > 1 ? 's' : ''} ${refused.join(', ')} ${refused.length > 1 ? 'are' : 'is'} not allowed for ${options.repo} by the service's PREVIEW_HOST_SECRETS setting (allowed: ${[...allowed].sort().join(', ') || 'none'})`,
      `remove ${refused.length > 1 ? 'them' : 'it'} from secrets:, or ask the service's operator to add ${refused.length > 1 ? 'them' : 'it'} to PREVIEW_HOST_SECRETS for ${options.repo}`,
    );
  }
  if (options.isFork) {
    return {
      copies: [],
      withheld: {
        names: secrets.map((secret) => secret.fromHostSecret),
        reason: 'this pull request comes from a fork, and host Secrets are never given to code from forks',
      },
    };
  }
  return {
    copies: secrets.map((secret) => ({
      from: secret.fromHostSecret,
      keys: secret.keys,
      to: { namespace: secret.namespace, name: secret.as ?? secret.fromHostSecret },
    })),
  };
}
