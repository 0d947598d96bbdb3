import type { StickyStep } from '../sticky-comment.ts';
import type { PreviewRow, PreviewSubject } from './preview-rows.ts';
import type { PreviewPageData, StatusPageData } from './read-status.ts';

/**
 * The status page's HTML, rendered on the server from the data read (pure): no script, no build
 * step, inline CSS that reads on a phone, and a meta refresh. Everything that came from outside (a
 * repository name, an error, a log line: a pull request is untrusted input) goes through `escapeHtml`.
 */

const REFRESH_SECONDS = 5;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

const CSS = `
:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; }
body { font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 0.75rem; }
h1 { font-size: 1.3rem; margin: 0.25rem 0 0.5rem; } h2 { font-size: 1.05rem; margin: 0 0 0.4rem; }
a { color: #2563eb; overflow-wrap: anywhere; } code, pre { font: 0.85rem/1.4 ui-monospace, monospace; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.3rem 0; padding: 0.5rem; border: 1px solid var(--line); border-radius: 6px; }
.counts, .muted, .hint { color: var(--muted); } .counts span { margin-right: 0.8rem; white-space: nowrap; }
.preview { border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.75rem; margin: 0.6rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.75rem; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: 0.8rem; padding: 0 0.45rem; border-radius: 999px; border: 1px solid currentColor; margin-left: 0.3rem; }
.ready { color: #15803d; } .failed, .retrying { color: #b91c1c; } .deploying, .queued { color: #b45309; }
.paused, .sleeping, .destroyed, .waiting-approval { color: var(--muted); }
.problem { border-left: 4px solid #b91c1c; padding: 0.3rem 0.6rem; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 0.2rem 0.5rem 0.2rem 0; border-bottom: 1px solid var(--line); }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** `acme/shop #12`, or `working tree hello (/home/me/hello)`. */
export function subjectText(subject: PreviewSubject): string {
  return subject.kind === 'tree'
    ? `working tree ${subject.name}${subject.dir ? ` (${subject.dir})` : ''}`
    : `${subject.repo} #${subject.pr}`;
}

/** `45s`, `12m`, `3h 05m`, `4d 2h`: how long ago, or how long, at a glance. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** A step's duration: `850 ms`, `12.3 s`, `2m 05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
}

/** 12 characters of a commit, keeping a working tree's `-dirty` (changed since that commit). */
const shortCommit = (sha: string) => `${sha.slice(0, 12)}${sha.endsWith('-dirty') ? '-dirty' : ''}`;

const since = (iso: string | undefined, now: Date) =>
  iso ? formatAge(now.getTime() - Date.parse(iso)) : undefined;

const badges = (preview: PreviewRow) =>
  `<span class="badge ${preview.state}">${preview.state}</span>${preview.paused && preview.state !== 'paused' ? '<span class="badge sleeping">sleeping</span>' : ''}`;

const link = (href: string, text: string) => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;

function facts(preview: PreviewRow, now: Date, more: [string, string | undefined][] = []): string {
  const age = since(preview.createdAt, now);
  const activity = since(preview.lastActivity, now);
  const rows: [string, string | undefined][] = [
    ['URL', preview.url ? link(preview.url, preview.url) : undefined],
    ['Commit', preview.sha ? `<code>${escapeHtml(shortCommit(preview.sha))}</code>` : undefined],
    ['Sleeping', preview.paused ? 'yes (paused)' : 'no'],
    ['Age', age],
    ['Last activity', activity ? `${activity} ago` : undefined],
    ...more,
  ];
  return `<dl>${rows
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<dt>${name}</dt><dd>${value}</dd>`)
    .join('')}</dl>`;
}

const problems = (data: StatusPageData) =>
  data.problems.map((problem) => `<p class="problem">${escapeHtml(problem)}</p>`).join('\n');

function counts(data: StatusPageData): string {
  if (!data.counts) return '<p class="counts">Queue: unknown</p>';
  const { waiting, active, delayed, failed } = data.counts;
  return `<p class="counts">Queue: <span>${waiting} waiting</span><span>${active} active</span><span>${delayed} delayed</span><span>${failed} failed</span></p>`;
}

/** The first lines of an error, for the list; the preview's page has all of it. */
const brief = (message: string) => {
  const lines = message.split('\n');
  const head = lines.slice(0, 4).join('\n');
  return head.length > 600 ? `${head.slice(0, 599)}…` : lines.length > 4 ? `${head}\n…` : head;
};

/** `GET /`: every preview and the queue's counts. */
export function renderStatusPage(data: StatusPageData, now = new Date()): string {
  const cards = data.previews.map(
    (preview) => `<article class="preview" id="${escapeHtml(preview.key)}">
<h2>${link(`previews/${encodeURIComponent(preview.key)}`, subjectText(preview.subject))}${badges(preview)}</h2>
${facts(preview, now)}
${preview.error ? `<pre class="error">${escapeHtml(brief(preview.error))}</pre>` : ''}
</article>`,
  );
  const body = `<h1>vcluster-preview</h1>
${counts(data)}
${problems(data)}
${cards.length > 0 ? cards.join('\n') : '<p class="muted">No previews yet: open a pull request in a repository where the App is installed, or run <code>vcluster-preview preview</code> in a working tree.</p>'}`;
  return page(
    `vcluster-preview: ${data.previews.length} preview${data.previews.length === 1 ? '' : 's'}`,
    body,
  );
}

function stepTable(steps: StickyStep[]): string {
  const rows = steps.map(
    (step) =>
      `<tr class="step"><td>${escapeHtml(step.name)}</td><td class="${step.status === 'done' ? 'ready' : step.status === 'failed' ? 'failed' : step.status === 'running' ? 'deploying' : 'muted'}">${escapeHtml(step.status)}</td><td>${typeof step.durationMs === 'number' ? formatDuration(step.durationMs) : ''}</td></tr>`,
  );
  return `<table><thead><tr><th>Step</th><th>Status</th><th>Took</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** `GET /previews/<key>`: one preview's steps, last error and syncer lines; `preview` missing is a 404 page. */
export function renderPreviewPage(data: PreviewPageData, key: string, now = new Date()): string {
  const back = '<p><a href="../">← all previews</a></p>';
  const { preview } = data;
  if (!preview) {
    return page(
      'vcluster-preview: no such preview',
      `${back}<h1>No preview ${escapeHtml(key)}</h1>
${problems(data)}
<p class="muted">It is not on the host cluster and has no recent job: it may have been torn down a while ago. The list shows every preview there is.</p>`,
    );
  }
  const title = subjectText(preview.subject);
  const body = `${back}
<h1>${escapeHtml(title)}${badges(preview)}</h1>
${problems(data)}
${facts(preview, now, [
  ['Namespace', preview.namespace ? `<code>${escapeHtml(preview.namespace)}</code>` : undefined],
  [
    'Job',
    preview.jobId
      ? `<code>${escapeHtml(preview.jobId)}</code> (${preview.jobState ?? 'unknown'})`
      : undefined,
  ],
])}
<h2>Steps</h2>
${preview.steps && preview.steps.length > 0 ? stepTable(preview.steps) : '<p class="muted">No steps recorded for the newest job.</p>'}
${
  preview.error
    ? `<h2>Last error</h2>
<pre class="error">${escapeHtml(preview.error)}</pre>
${preview.hint ? `<p class="hint">${escapeHtml(preview.hint)}</p>` : ''}`
    : ''
}
<h2>Syncer</h2>
${data.syncerLines.length > 0 ? `<pre class="syncer">${data.syncerLines.map(escapeHtml).join('\n')}</pre>` : '<p class="muted">Nothing logged by the syncer to show.</p>'}`;
  return page(`vcluster-preview: ${title}`, body);
}
