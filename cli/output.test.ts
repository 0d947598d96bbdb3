import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatState, type OutputFormat } from './output.ts';

describe('formatState: -o json|yaml, else text', () => {
  const state = { name: 'demo', state: 'running', labels: { 'vcluster-preview.dev/pr': '12' }, nodes: 2 };

  it.each<{ format: OutputFormat | undefined; read: (printed: string) => unknown }>([
    { format: 'json', read: JSON.parse },
    { format: 'yaml', read: parse },
  ])('$format reads back as the same state, with no trailing newline', ({ format, read }) => {
    const printed = formatState(state, format, () => 'text');
    expect(read(printed)).toEqual(state);
    expect(printed.endsWith('\n')).toBe(false);
  });

  it('a list in yaml is a YAML sequence', () => {
    expect(formatState([state], 'yaml', () => '')).toMatch(/^- name: demo\n/);
  });

  it('without a format, the text for people (only then made)', () => {
    let made = 0;
    const text = () => {
      made++;
      return 'virtual cluster demo is running';
    };
    expect(formatState(state, undefined, text)).toBe('virtual cluster demo is running');
    formatState(state, 'json', text);
    expect(made).toBe(1);
  });
});
