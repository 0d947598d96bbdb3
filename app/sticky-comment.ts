import { type PreviewStep, REPO_CONFIG_PATH, type StepStatus } from '../preview/index.ts';
import { helpText, inlineCode } from './commands.ts';

/**
 * The one comment per pull request that says where its preview stands. It is found again by the
 * marker on its first line and edited in place, so every render carries the whole picture.
 */

export const STICKY_MARKER = '<!-- vcluster-preview:sticky -->';

/** Whether a comment is ours; only the first line counts, so a quote of it in someone's reply is not. */
export function isStickyComment(body: string): boolean {
  return body.split(/\r?\n/, 1)[0]?.trim() === STICKY_MARKER;
}

export type PreviewState =
  | 'queued'
  | 'waiting-approval'
  | 'deploying'
  | 'ready'
  | 'failed'
  | 'paused'
  | 'destroyed';
/** A step of the checklist, as preview/steps.ts tracks it. */
export type StickyStep = PreviewStep;
export type { StepStatus };

export interface StickyCommentState {
  state: PreviewState;
  /** 1-based place in the line of pull requests waiting for a preview slot, for `queued`. */
  queuePosition?: number;
  /** For `queued`: the CI checks of the commit (`waitFor.checks`) that have not succeeded yet. */
  checks?: string[];
  /**
   * Why the service itself put the preview in this state: for `queued`, what holds it back (a full
   * cap); otherwise what the sweeper saw (`the pull request was closed`, `idle for 1h: paused`).
   */
  reason?: string;
  /** The preview URL, once known. */
  url?: string;
  /** The commit the preview is (being) built from. */
  sha?: string;
  steps?: StickyStep[];
  /** The virtual cluster, to connect to it; left out once it is gone. */
  connect?: { name: string; namespace: string };
  /** For `failed`: what went wrong and, when known, what to do about it. */
  error?: { message: string; hint?: string; logUrl?: string };
  /**
   * Things the reader should know that did not fail the preview, one sentence each (host Secrets
   * withheld from a fork).
   */
  notes?: string[];
  /** Who kept the preview from sleep and ttl (`/vcluster keep`: a login; or `label preview:keep`). */
  keptBy?: string;
  /** When this render was made (ISO string), shown at the bottom so a stale comment is recognisable. */
  updatedAt?: string;
}

const ERROR_MAX_LINES = 60;
const ERROR_MAX_CHARS = 8_000;

const stepIcons: Record<StepStatus, string> = { done: '✅', running: '⏳', failed: '❌', pending: '⬜' };

/** `0.4s`, `1.2s`, `12s`, `1m 3s`, `2h 5m`: short enough for a table cell, precise where it matters. */
export function formatDuration(ms: number): string {
  const tenths = Math.round(Math.max(0, ms) / 100);
  if (tenths < 100) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** `1st`, `2nd`, `3rd`, `4th`, `11th`, `22nd`: the place in line as people say it. */
export function ordinal(place: number): string {
  const tens = place % 100;
  const suffix =
    tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[place % 10];
  return `${place}${suffix ?? 'th'}`;
}

const sentence = (text: string): string => {
  const trimmed = text.trim();
  const capital = `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}`;
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
};

const headline = (state: StickyCommentState): string => {
  switch (state.state) {
    case 'ready':
      return '🚀 Preview ready';
    case 'deploying':
      return '⏳ Deploying the preview';
    case 'failed':
      return '❌ Preview failed';
    case 'paused':
      return '💤 Preview paused';
    case 'destroyed':
      return '🗑️ Preview destroyed';
    case 'waiting-approval':
      return '⏸️ Waiting for approval';
    case 'queued':
      if (state.checks && state.checks.length > 0)
        return `🕒 Waiting for ${state.checks.length === 1 ? 'check' : 'checks'} ${state.checks.join(', ')}`;
      return state.queuePosition === undefined
        ? '🕒 Queued'
        : `🕒 Waiting for a preview slot: ${ordinal(state.queuePosition)} in line`;
  }
};

/** One sentence under the headline saying what happens next, or what the reader can do. */
const explanation = (state: StickyCommentState): string | undefined => {
  switch (state.state) {
    case 'waiting-approval':
      return 'This pull request comes from a fork, so nothing is deployed until a maintainer has looked at this commit and comments `/vcluster approve`.';
    case 'queued':
      if (state.checks && state.checks.length > 0)
        return `The preview is deployed once ${state.checks.length === 1 ? 'this check succeeds' : 'these checks succeed'} on the commit (\`waitFor\` in \`${REPO_CONFIG_PATH}\`).`;
      return state.reason
        ? sentence(state.reason)
        : 'All preview slots are taken; this one starts as soon as one frees up.';
    case 'paused':
      return 'Comment `/vcluster resume` to start it again.';
    case 'destroyed':
      return 'The virtual cluster and everything in it are deleted.';
    default:
      return undefined;
  }
};

/** Text in a fence longer than any run of backticks inside it, so the text cannot close it early. */
const fenced = (text: string, language = ''): string => {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${text}\n${fence}`;
};

/** Table cells hold one line and no unescaped pipe. */
const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

const stepTable = (steps: StickyStep[]): string =>
  [
    '| | Step | Time |',
    '|---|---|---|',
    ...steps.map(
      (step) =>
        `| ${stepIcons[step.status]} | ${cell(step.name)} | ${step.durationMs === undefined ? '' : formatDuration(step.durationMs)} |`,
    ),
  ].join('\n');

/** The start of the error, which says what failed; the caller puts the most telling lines first. */
const truncatedError = (message: string): string => {
  const lines = message.trimEnd().split(/\r?\n/);
  let text = lines.slice(0, ERROR_MAX_LINES).join('\n');
  const notes: string[] = [];
  if (lines.length > ERROR_MAX_LINES) notes.push(`${lines.length - ERROR_MAX_LINES} more lines`);
  // One enormous line (a minified manifest, a JSON body) must not push the comment past GitHub's limit.
  if (text.length > ERROR_MAX_CHARS) {
    text = text.slice(0, ERROR_MAX_CHARS);
    notes.push(`cut at ${ERROR_MAX_CHARS} characters`);
  }
  return notes.length > 0 ? `${text}\n… (${notes.join(', ')})` : text;
};

const failureSection = (error: NonNullable<StickyCommentState['error']>): string => {
  const todo =
    error.hint ??
    'Fix the cause and push a commit, or comment `/vcluster redeploy` to try again (`/vcluster reset` starts from a fresh virtual cluster).';
  return [
    '### What went wrong',
    fenced(truncatedError(error.message)),
    ...(error.logUrl ? [`Full log: ${error.logUrl}`] : []),
    `**What to do:** ${todo}`,
  ].join('\n\n');
};

/** A login is mentioned as `@login` in code, so the comment pings nobody; the label is named as such. */
const keptLine = (by: string): string => {
  const who = by.startsWith('label ')
    ? `the label ${inlineCode(by.slice('label '.length))}`
    : inlineCode(`@${by}`);
  return `**Kept** by ${who}: it does not sleep or expire while the pull request is open (\`/vcluster keep off\` lets it).`;
};

/** The comment body: marker first, then headline, URL and commit, steps, connect, failure, commands. */
export function renderStickyComment(state: StickyCommentState): string {
  const facts = [
    ...(state.url && state.state !== 'destroyed' ? [`**Preview:** ${state.url}`] : []),
    ...(state.sha ? [`**Commit:** ${state.sha.slice(0, 7)}`] : []),
  ];
  const sections = [
    `${STICKY_MARKER}\n## ${headline(state)}`,
    state.reason && state.state !== 'queued' ? `**Why:** ${state.reason}` : undefined,
    explanation(state),
    facts.length > 0 ? facts.join(' · ') : undefined,
    state.keptBy && state.state !== 'destroyed' ? keptLine(state.keptBy) : undefined,
    state.steps && state.steps.length > 0 ? stepTable(state.steps) : undefined,
    state.notes && state.notes.length > 0 && state.state !== 'destroyed'
      ? state.notes.map((note) => `> [!NOTE]\n> ${cell(sentence(note))}`).join('\n\n')
      : undefined,
    state.state === 'failed' && state.error ? failureSection(state.error) : undefined,
    state.connect && state.state !== 'destroyed'
      ? `**Connect** with kubectl to the preview's virtual cluster:\n\n${fenced(
          `vcluster-preview connect ${state.connect.name} -n ${state.connect.namespace}`,
          'sh',
        )}`
      : undefined,
    `<details><summary>Commands</summary>\n\n${helpText()}\n\n</details>`,
    state.updatedAt ? `<sub>Updated ${state.updatedAt}</sub>` : undefined,
  ];
  return `${sections.filter((section): section is string => section !== undefined).join('\n\n')}\n`;
}
