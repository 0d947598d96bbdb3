import { TOKEN_EXPIRATION } from '../../preview/index.ts';
import { previewName } from '../desired-state.ts';
import { factsOf } from '../policy/pull-facts.ts';
import type { ActionsClaims } from './actions-claims.ts';
import { ApiError } from './api-error.ts';
import type { PreviewHosts } from './read-preview-status.ts';
import { type AppGitHub, readPullRequest } from './read-pull-request.ts';
import { checkActorPermission, checkWorkflowEvent } from './workflow-run.ts';

/**
 * `GET /api/v1/previews/{owner}/{repo}/{pr}/kubeconfig`: a kubeconfig of the pull request's virtual
 * cluster for its own workflow, with a short-lived service-account token of that virtual cluster
 * (preview/ci-kubeconfig.ts). Refused for a pull request from a fork: its code must not get a
 * credential, whatever workflow (`pull_request_target`, `workflow_run`) carried its token here.
 */

export interface PreviewKubeconfigDeps {
  github: AppGitHub;
  /** Without it (a web role with no KUBECONFIG) there is no virtual cluster to reach. */
  hosts?: PreviewHosts;
}

export interface PreviewKubeconfigInput {
  /** The token's claims, whose repository was checked against the path. */
  claims: ActionsClaims;
  /** The token's repository, already checked against the path. */
  repo: string;
  pr: number;
  /** `?expiration=` of the request, in seconds; default 1 h. */
  expiration?: string | undefined;
}

export interface PreviewKubeconfigAnswer {
  kubeconfig: string;
  token: string;
  expiresAt: string;
  serviceAccount: string;
  namespace: string;
}

function expirationSeconds(text: string | undefined): number {
  if (text === undefined) return TOKEN_EXPIRATION.defaultSeconds;
  const { minSeconds, maxSeconds } = TOKEN_EXPIRATION;
  const seconds = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= minSeconds && seconds <= maxSeconds)) {
    throw new ApiError(
      400,
      `invalid request: expiration ${JSON.stringify(text)} is not a number of seconds from ${minSeconds} to ${maxSeconds}`,
      `leave it out for ${TOKEN_EXPIRATION.defaultSeconds / 3600} h, or pass ?expiration=<seconds>`,
    );
  }
  return seconds;
}

export async function previewKubeconfig(
  deps: PreviewKubeconfigDeps,
  input: PreviewKubeconfigInput,
): Promise<PreviewKubeconfigAnswer> {
  const { repo, pr } = input;
  const seconds = expirationSeconds(input.expiration);
  checkWorkflowEvent(input.claims);
  const { octokit, pull } = await readPullRequest(deps.github, repo, pr);
  if (factsOf(pull).isFork) {
    throw new ApiError(
      403,
      `pull request #${pr} of ${repo} comes from ${pull.head.repo?.full_name ?? 'a deleted fork'}: a fork's pull request gets no kubeconfig`,
      "the preview's URL and status are open to it; run tests that need the cluster from a branch of the repository itself",
    );
  }
  // A credential to the cluster: the same people as `/vcluster kubeconfig` would be (write).
  await checkActorPermission(octokit, repo, input.claims, { kind: 'redeploy', args: [] });
  if (!deps.hosts) {
    throw new ApiError(
      503,
      'this service has no access to the host cluster, so it cannot reach the virtual cluster',
      'this is on the service side: its web role needs KUBECONFIG (or to run in the cluster); tell its operator',
    );
  }
  const ref = previewName(repo, pr);
  const info = await deps.hosts.get(ref);
  if (!info) {
    throw new ApiError(
      404,
      `${repo}#${pr} has no preview`,
      'ask for one first (the Action with action: up, or push to the pull request), and wait until it is ready',
    );
  }
  if (info.state !== 'running') {
    throw new ApiError(
      409,
      `the preview of ${repo}#${pr} is ${info.state}, not running`,
      info.state === 'paused'
        ? 'resume it first (the Action with action: resume, or comment `/vcluster resume`)'
        : 'wait until it is ready (the Action waits by default), or reset it if it failed',
    );
  }
  const minted = await deps.hosts.ciKubeconfig(ref, {
    expirationSeconds: seconds,
    contextName: `vcluster-preview_${ref.name}`,
  });
  return { ...minted, namespace: info.namespace };
}
