import { createHash } from 'node:crypto';
import type { Command } from './commands.ts';

/**
 * What one pull request's preview should be, from the event that just arrived. Each event is
 * judged on its own (no memory of earlier ones): the queue keeps only the newest desired state per
 * pull request, and the worker converges the host cluster to it.
 */

/**
 * What a workflow set for `${{ variables.NAME }}` (the API's `variables`), for this deploy only;
 * names the repo config does not declare fail the deploy.
 */
export type Variables = Record<string, string>;

export type DesiredState =
  | { kind: 'up'; sha: string; variables?: Variables }
  | { kind: 'down' }
  | { kind: 'reset'; sha: string; variables?: Variables }
  | { kind: 'redeploy'; sha: string; variables?: Variables }
  | { kind: 'pause' }
  | { kind: 'resume' }
  /** Nothing to do; `reason` is for logs and replies. */
  | { kind: 'skip'; reason: string }
  /** A fork's commit that a maintainer has not approved: nothing runs until `/vcluster approve`. */
  | { kind: 'await-approval'; sha: string };

/** What the pull request looks like now (from the payload; for comments, from the pull request fetched). */
interface PullRequestFacts {
  draft: boolean;
  /** Names of the labels it carries. */
  labels: string[];
  headSha: string;
  /** Whether the head branch is in another repository than the base. */
  isFork: boolean;
}

export type PreviewEvent =
  | (PullRequestFacts & {
      type: 'pull_request';
      /** `opened`, `synchronize`, `closed`, `labeled`, … as GitHub sends it. */
      action: string;
      merged: boolean;
      /** For `labeled` / `unlabeled`: the label added or removed. */
      label?: string;
    })
  | (PullRequestFacts & {
      type: 'command';
      command: Command;
      state: 'open' | 'closed';
      /** When the comment was written (ISO 8601), for `approve`. */
      commentedAt?: string;
      /** When this service first saw the current head commit (ISO 8601); the handler gives "now" for a head it never saw. */
      headSeenAt?: string;
    });

/** The parts of the repo config that decide whether a pull request gets a preview at all. */
export interface PreviewPolicy {
  drafts: boolean;
  /** Only pull requests carrying one of these get a preview; empty means all. */
  labels: string[];
  forks: 'approve' | 'never' | 'always';
  /** `waitFor.checks`: CI checks a head commit must pass before it is deployed (for the checks webhooks). */
  waitFor?: string[];
}

export interface DesiredStateContext {
  config: PreviewPolicy;
  /** The commit a maintainer approved with `/vcluster approve`, if any. Approval holds for that commit only. */
  approvedSha?: string;
}

const skip = (reason: string): DesiredState => ({ kind: 'skip', reason });

const sameLabel = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const gatesOn = (config: PreviewPolicy, label: string) =>
  config.labels.some((wanted) => sameLabel(wanted, label));

/** Why this pull request gets no preview at its head commit, or undefined when it may have one. */
const gateReason = (facts: PullRequestFacts, config: PreviewPolicy): string | undefined => {
  if (facts.draft && !config.drafts)
    return 'draft pull requests get no preview (set drafts: true to change that)';
  if (config.labels.length > 0 && !facts.labels.some((label) => gatesOn(config, label))) {
    return `only pull requests labelled ${config.labels.join(' or ')} get a preview`;
  }
  if (facts.isFork && config.forks === 'never')
    return 'pull requests from forks get no preview (forks: never)';
  return undefined;
};

/** `up`-like states at the head commit, once drafts, labels and fork approval allow it. */
const atHead = (
  kind: 'up' | 'reset' | 'redeploy',
  facts: PullRequestFacts,
  context: DesiredStateContext,
): DesiredState => {
  const reason = gateReason(facts, context.config);
  if (reason) return skip(reason);
  const approved = context.config.forks === 'always' || context.approvedSha === facts.headSha;
  if (facts.isFork && !approved) return { kind: 'await-approval', sha: facts.headSha };
  return { kind, sha: facts.headSha };
};

const fromPullRequest = (
  event: Extract<PreviewEvent, { type: 'pull_request' }>,
  context: DesiredStateContext,
): DesiredState => {
  const { config } = context;
  switch (event.action) {
    case 'opened':
    case 'reopened':
    case 'synchronize':
    case 'ready_for_review':
      return atHead('up', event, context);
    case 'closed':
      return { kind: 'down' };
    case 'converted_to_draft':
      return config.drafts ? skip('drafts keep their preview (drafts: true)') : { kind: 'down' };
    case 'labeled':
      if (config.labels.length === 0 || !event.label || !gatesOn(config, event.label)) {
        return skip(`label ${event.label ?? '(none)'} does not decide about previews`);
      }
      return atHead('up', event, context);
    case 'unlabeled':
      if (config.labels.length === 0 || !event.label || !gatesOn(config, event.label)) {
        return skip(`label ${event.label ?? '(none)'} does not decide about previews`);
      }
      // Another gating label may still be there; the payload's labels are those after the removal.
      return event.labels.some((label) => gatesOn(config, label))
        ? skip('another label still asks for a preview')
        : { kind: 'down' };
    default:
      return skip(`pull_request.${event.action} does not change the preview`);
  }
};

/** The whole second of a timestamp: GitHub gives comment times in seconds, so a push in the same second counts as before. */
const secondOf = (iso: string) => Math.floor(Date.parse(iso) / 1000);

const fromCommand = (
  event: Extract<PreviewEvent, { type: 'command' }>,
  context: DesiredStateContext,
): DesiredState => {
  const { command } = event;
  if (command.kind === 'destroy') return { kind: 'down' };
  if (event.state === 'closed') return skip('the pull request is closed; its preview is gone');
  switch (command.kind) {
    case 'reset':
    case 'redeploy':
      return atHead(command.kind, event, context);
    case 'pause':
      return { kind: 'pause' };
    case 'resume':
      return { kind: 'resume' };
    case 'approve': {
      if (!event.isFork) return skip('only pull requests from forks need approval');
      // An approval is of the commit the maintainer looked at: `/vcluster approve <full sha>`, or the
      // head as it was when they commented. A push in between is not approved.
      const sha = command.args.find((arg) => /^[0-9a-f]{7,}$/i.test(arg));
      if (sha && sha.length !== 40) {
        return skip(
          `name the whole commit id (40 hexadecimal characters), not ${sha}: a short one can be matched by another commit; like /vcluster approve ${event.headSha}`,
        );
      }
      if (sha && sha.toLowerCase() !== event.headSha.toLowerCase()) {
        return skip(
          `the approved commit ${sha.slice(0, 7)} is no longer the head (${event.headSha.slice(0, 7)}); approve again`,
        );
      }
      if (
        !sha &&
        event.commentedAt &&
        event.headSeenAt &&
        secondOf(event.headSeenAt) > secondOf(event.commentedAt)
      ) {
        return skip(
          `the pull request was pushed to after your comment (its head is now ${event.headSha.slice(0, 7)}); look at it and approve again, or name it: /vcluster approve ${event.headSha}`,
        );
      }
      return atHead('up', event, { ...context, approvedSha: event.headSha });
    }
    case 'status':
    case 'help':
    case 'kubeconfig':
    case 'keep':
    case 'unknown':
      return skip(`/vcluster ${command.kind} is answered without changing the preview`);
  }
};

/**
 * The desired state after `event`. For `approve`, an `up` result means the handler should record
 * `sha` as approved for this pull request.
 */
export function desiredStateFor(event: PreviewEvent, context: DesiredStateContext): DesiredState {
  return event.type === 'pull_request' ? fromPullRequest(event, context) : fromCommand(event, context);
}

// ---------------------------------------------------------------------------------------------------
// Names

const shortHash = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/** `_` → `__`, `.` → `_2e`, `ł` → `_u0142`…: fixed widths after `_`, so two names never escape alike. */
const escapeChar = (char: string): string => {
  if (char === '_') return '__';
  const code = char.charCodeAt(0);
  return code < 0x100 ? `_${code.toString(16).padStart(2, '0')}` : `_u${code.toString(16).padStart(4, '0')}`;
};

/**
 * BullMQ job id for a pull request: `pr-owner--repo-12`. BullMQ reserves `:`, and GitHub names are
 * case-insensitive, so the name is lowercased and escaped one-to-one: two repositories never share
 * an id, so their jobs never collapse into one.
 */
export function jobIdFor(repoFullName: string, prNumber: number): string {
  // A `-` at either end of a part or next to another is escaped too, so a part never holds `--`
  // nor touches the `--` between them: `a-/b` and `a/-b` stay apart.
  const escaped = (part: string) =>
    part.toLowerCase().replace(/[^a-z0-9-]|^-|-$|-(?=-)/g, (char) => escapeChar(char));
  const [owner = '', repo = ''] = repoFullName.split('/');
  return `pr-${escaped(owner)}--${escaped(repo)}-${prNumber}`;
}

export const MAX_PREVIEW_NAME = 52;

/**
 * The virtual cluster's name and host namespace for a pull request: `pr-12-acme--shop` in
 * `preview-pr-12-acme--shop`. Owner and repository both go in, since one service serves many
 * installations and two owners' `shop` must not share a namespace; `--` cannot occur in an owner
 * name, so the split is unambiguous. A name that had to be changed (characters a DNS label cannot
 * hold) or cut to 52 characters ends in a hash of the full name, which keeps it unique.
 */
export function previewName(repo: string, prNumber: number): { name: string; namespace: string } {
  const [owner, name] = repo.includes('/')
    ? repo.toLowerCase().split('/', 2)
    : [undefined, repo.toLowerCase()];
  const slug = (part: string) => part.replace(/[^a-z0-9-]+/g, '-');
  const exact = `pr-${prNumber}-${owner === undefined ? '' : `${slug(owner)}--`}${slug(name ?? '')}`;
  // `--` separates owner and repository: a part that touches or holds `--` could be read either way.
  const ambiguous = (part: string | undefined) =>
    part !== undefined && (part.startsWith('-') || part.endsWith('-') || part.includes('--'));
  const lossy =
    slug(name ?? '') !== name ||
    (owner !== undefined && slug(owner) !== owner) ||
    ambiguous(owner) ||
    ambiguous(name) ||
    exact.endsWith('-');
  const full =
    lossy || exact.length > MAX_PREVIEW_NAME
      ? `${exact.slice(0, MAX_PREVIEW_NAME - 7).replace(/-+$/, '')}-${shortHash(`${repo.toLowerCase()}#${prNumber}`, 6)}`
      : exact;
  return { name: full, namespace: `preview-${full}` };
}
