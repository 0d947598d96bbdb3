// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ … }}` is GitHub Actions' expression syntax, shown in a workflow.
/**
 * `/vcluster <command>` in pull request comments: what a comment asks for, and who may ask it.
 * Pure: the handler reads the comment and the commenter's permission (through the API, never from
 * the payload) and passes them here.
 */

export const COMMAND_NAMES = [
  'reset',
  'redeploy',
  'destroy',
  'pause',
  'resume',
  'keep',
  'status',
  'help',
  'approve',
  'kubeconfig',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type Command =
  | { kind: CommandName; args: string[] }
  /** `text` is what followed `/vcluster`, so the reply can quote it. */
  | { kind: 'unknown'; text: string };

/** GitHub's repository permission levels, `role_name` included (`maintain`, `triage`). */
export type PermissionLevel = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

const descriptions: Record<CommandName, string> = {
  reset: 'delete the virtual cluster, create a fresh one and deploy again',
  redeploy: 'deploy the app again into the same virtual cluster',
  destroy: 'delete the preview (the next push brings it back)',
  pause: 'stop the preview to save resources, keeping its data',
  resume: 'start a paused preview again',
  keep: 'never let the preview sleep or expire while the pull request is open (`/vcluster keep off` undoes it; so does the `preview:keep` label)',
  status: 'refresh the state of the preview in this comment',
  help: 'show this list',
  approve: 'deploy a pull request from a fork at its current commit (a new push needs a new approval)',
  kubeconfig: 'say how to get a short-lived kubeconfig of this virtual cluster (never posted in a comment)',
};

const isCommandName = (word: string): word is CommandName =>
  (COMMAND_NAMES as readonly string[]).includes(word);

const fencePattern = /^ {0,3}(`{3,}|~{3,})/;
const prefixPattern = /^ {0,3}\/vcluster(?:\s+(.*))?$/i;

/**
 * The lines of a comment that a person wrote as their own words: not quoted (`>`), not in a code
 * fence, not indented as code, not in an HTML comment. Quoting someone else's `/vcluster destroy`
 * must not run it.
 */
const ownLines = (body: string): string[] => {
  const lines: string[] = [];
  let fence: string | undefined;
  let inHtmlComment = false;
  for (const line of body.split(/\r?\n/)) {
    const fenceMatch = fencePattern.exec(line);
    if (fence !== undefined) {
      // A fence closes with the same character, at least as long, and nothing but spaces after it.
      if (fenceMatch?.[1]?.startsWith(fence) && line.trim() === fenceMatch[1]) fence = undefined;
      continue;
    }
    if (fenceMatch?.[1]) {
      fence = fenceMatch[1];
      continue;
    }
    if (inHtmlComment) {
      if (line.includes('-->')) inHtmlComment = false;
      continue;
    }
    if (line.trimStart().startsWith('<!--')) {
      inHtmlComment = !line.includes('-->');
      continue;
    }
    lines.push(line);
  }
  return lines;
};

/**
 * The first `/vcluster …` command in a comment, or undefined when it has none. A bare `/vcluster`
 * asks for help; a word that is not a command is `unknown`, so the reply can show the help text.
 */
export function parseCommand(body: string): Command | undefined {
  for (const line of ownLines(body)) {
    const match = prefixPattern.exec(line);
    if (!match) continue;
    const words = (match[1] ?? '').trim().split(/\s+/).filter(Boolean);
    const [first, ...args] = words;
    if (first === undefined) return { kind: 'help', args: [] };
    // `/vcluster Reset.` is still a reset: phones capitalise, people end sentences.
    const name = first.toLowerCase().replace(/[.!,;:]+$/, '');
    return isCommandName(name) ? { kind: name, args } : { kind: 'unknown', text: words.join(' ') };
  }
  return undefined;
}

/**
 * What `/vcluster keep …` asks (pure): `on` for a bare `keep` (or `keep on`), `off` for `keep off`;
 * undefined for anything else, answered with how to write it.
 */
export function keepWish(args: readonly string[]): 'on' | 'off' | undefined {
  const [first, ...rest] = args.map((arg) => arg.toLowerCase().replace(/[.!,;:]+$/, ''));
  if (rest.length > 0) return undefined;
  if (first === undefined || first === 'on') return 'on';
  return first === 'off' ? 'off' : undefined;
}

/** Markdown list of the commands, one line each; `status` and `help` say that anyone may run them. */
export function helpText(): string {
  return COMMAND_NAMES.map((name) => {
    const anyone = requiredPermission({ kind: name, args: [] }) === 'none' ? ' (anyone)' : '';
    return `- \`/vcluster ${name}\` — ${descriptions[name]}${anyone}`;
  }).join('\n');
}

/**
 * What the commenter needs: `write` (also given by maintain and admin) for anything that changes
 * or costs something; nothing to read the state or the help, unknown commands included since they
 * are answered with the help.
 */
export function requiredPermission(command: Command | CommandName): PermissionLevel {
  const kind = typeof command === 'string' ? command : command.kind;
  return kind === 'status' || kind === 'help' || kind === 'unknown' ? 'none' : 'write';
}

const rank: Record<PermissionLevel, number> = {
  none: 0,
  read: 1,
  triage: 2,
  write: 3,
  maintain: 4,
  admin: 5,
};

/** Whether a user with `level` on the repository may do what needs `needed`. */
export function permissionAllows(level: PermissionLevel, needed: PermissionLevel): boolean {
  return (rank[level] ?? 0) >= rank[needed];
}

/**
 * The answer to `/vcluster kubeconfig` (pure). A pull request's comments are read by everyone who
 * can read the repository (and are mailed, cached and indexed), so a credential is never posted
 * there: the kubeconfig comes to a workflow of the repository itself, through the Action, whose
 * token the runner masks. `serviceUrl` is this service's public address, when it has one.
 */
export function kubeconfigAnswer(sender: string, serviceUrl: string | undefined): string {
  const url = serviceUrl ?? 'https://<this service>';
  return [
    `@${sender}, a kubeconfig is never posted on a pull request: anyone who can read this page could use it.`,
    'Get one in a workflow of this repository with the Action: it writes a kubeconfig of a service account',
    "of this preview's virtual cluster (its token expires after 1 h, and is masked in the log) and",
    'outputs its path. A pull request from a fork gets none.',
    '',
    '```yaml',
    'permissions:',
    '  id-token: write',
    'steps:',
    '  - id: preview',
    '    uses: <owner>/vcluster-preview@main',
    '    with:',
    `      service-url: ${url}`,
    '      kubeconfig: true',
    '  - run: kubectl get pods -A',
    '    env:',
    '      KUBECONFIG: ${{ steps.preview.outputs.kubeconfig-path }}',
    '```',
  ].join('\n');
}

/** Longest command text echoed back; the rest is cut with `…`. */
const MAX_ECHO = 80;

/**
 * `text` as one Markdown code span (pure), for echoing what someone commented: fenced by more
 * backticks than any run inside it (CommonMark), so nothing in it closes the span and becomes a
 * link, an image, a mention or markup; cut to MAX_ECHO characters, on one line.
 */
export function inlineCode(text: string): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ');
  const cut = flat.length > MAX_ECHO ? `${flat.slice(0, MAX_ECHO - 1)}…` : flat;
  const longestRun = Math.max(0, ...[...cut.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(longestRun + 1);
  // A span that starts or ends with a backtick needs a space inside its fence (which CommonMark strips).
  const pad = cut.startsWith('`') || cut.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${cut}${pad}${fence}`;
}
