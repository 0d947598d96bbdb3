/**
 * What the preview policy needs to know of a pull request, read from a webhook payload or from
 * `GET /repos/{owner}/{repo}/pulls/{n}` (both have GitHub's pull request shape).
 */

export interface PullFacts {
  draft: boolean;
  labels: string[];
  headSha: string;
  isFork: boolean;
  state: 'open' | 'closed';
  baseRef: string;
}

export interface PullLike {
  draft?: boolean | undefined;
  state: string;
  labels: { name: string }[];
  head: { sha: string; repo: { full_name: string } | null };
  base: { ref: string; repo: { full_name: string } };
}

export const factsOf = (pull: PullLike): PullFacts => ({
  draft: pull.draft === true,
  labels: pull.labels.map((label) => label.name),
  headSha: pull.head.sha,
  // A deleted fork leaves `head.repo` null: still not the base repository.
  isFork: pull.head.repo?.full_name.toLowerCase() !== pull.base.repo.full_name.toLowerCase(),
  state: pull.state === 'closed' ? 'closed' : 'open',
  baseRef: pull.base.ref,
});

/** Config is read at the head commit, but a fork's from the base branch: never trust the fork's file. */
export const configRef = (facts: PullFacts): string => (facts.isFork ? facts.baseRef : facts.headSha);
