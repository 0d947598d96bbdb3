/**
 * The last lines of what a virtual cluster's syncer logged, made readable for a pull request
 * comment (pure). The syncer logs pino JSON; each line becomes `12:03:04 WARN message (kind Pod,
 * key default/web-1): error`, debug and trace lines are left out, anything else is kept as it is.
 */

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields that say which object a line is about, in the order they are shown. */
const CONTEXT_FIELDS = ['kind', 'key', 'name', 'namespace', 'informer'] as const;
const MAX_LINE = 300;

interface PinoLine {
  level?: number;
  time?: number;
  msg?: string;
  err?: { message?: string };
  [field: string]: unknown;
}

function parse(line: string): PinoLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null ? (value as PinoLine) : undefined;
  } catch {
    return undefined;
  }
}

const clip = (text: string) => (text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text);

/** One readable line, or undefined for a line not worth showing (debug, trace, blank). */
export function formatSyncerLine(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  const entry = parse(trimmed);
  if (!entry) return clip(trimmed);
  if (typeof entry.level === 'number' && entry.level < 30) return undefined;
  const time = typeof entry.time === 'number' ? `${new Date(entry.time).toISOString().slice(11, 19)} ` : '';
  const level = LEVELS[entry.level ?? 30] ?? String(entry.level);
  const context = CONTEXT_FIELDS.filter((field) => typeof entry[field] === 'string')
    .map((field) => `${field} ${entry[field] as string}`)
    .join(', ');
  // `reason` is the API server's own words where the syncer had them; an error's first line otherwise.
  const cause = typeof entry.reason === 'string' ? entry.reason : entry.err?.message?.split('\n', 1)[0];
  const error = cause ? `: ${cause}` : '';
  return clip(`${time}${level} ${entry.msg ?? ''}${context ? ` (${context})` : ''}${error}`);
}

/** The last `limit` lines worth showing, oldest first. */
export function summarizeSyncerLog(lines: readonly string[], limit = 15): string[] {
  const shown: string[] = [];
  for (let index = lines.length - 1; index >= 0 && shown.length < limit; index--) {
    const formatted = formatSyncerLine(lines[index]!);
    if (formatted !== undefined) shown.push(formatted);
  }
  return shown.reverse();
}
