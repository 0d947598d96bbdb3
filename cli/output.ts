import { Option } from 'commander';
import { stringify } from 'yaml';

/** What `-o` prints for scripts, as kubectl's `-o json|yaml`; without it, text for people. */
export const OUTPUT_FORMATS = ['json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `-o, --output json|yaml`, the same on every command that prints state. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'print the result as json or yaml (default: text)').choices(
    OUTPUT_FORMATS,
  );
}

/** `value` as `format` asks, or `text()` without one. Pure; no trailing newline (the caller prints a line). */
export function formatState(value: unknown, format: OutputFormat | undefined, text: () => string): string {
  if (format === 'json') return JSON.stringify(value, null, 2);
  if (format === 'yaml') return stringify(value).trimEnd();
  return text();
}
