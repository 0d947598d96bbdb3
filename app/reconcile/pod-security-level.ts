import { POD_SECURITY_LEVELS, type PodSecurityLevel, REPO_CONFIG_PATH } from '../../preview/index.ts';
import { BadConfigError } from '../errors/bad-config-error.ts';

/** The operator's Pod Security settings (`PREVIEW_POD_SECURITY`, `PREVIEW_POD_SECURITY_MAX`). */
export interface PodSecurityPolicy {
  /** The level of a preview whose config asks for none. */
  default: PodSecurityLevel;
  /** The loosest level a repository's `podSecurity` may ask for. */
  max: PodSecurityLevel;
}

const looseness = (level: PodSecurityLevel) => POD_SECURITY_LEVELS.indexOf(level);

/**
 * The Pod Security level a preview's pods are held to (pure): what its config asks for, unless that
 * is looser than the operator allows (a BadConfigError naming both), else the operator's default.
 */
export function podSecurityLevel(
  asked: PodSecurityLevel | undefined,
  policy: PodSecurityPolicy,
): PodSecurityLevel {
  if (asked === undefined) return policy.default;
  if (looseness(asked) < looseness(policy.max)) {
    throw new BadConfigError(
      `podSecurity: ${asked} in ${REPO_CONFIG_PATH} is looser than this service allows (${policy.max} at the loosest)`,
      `remove podSecurity or set it to ${POD_SECURITY_LEVELS.slice(looseness(policy.max)).join(' or ')}, and make the pods meet it`,
    );
  }
  return asked;
}
