import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_SCHEMA_FILE,
  configReference,
  repoConfigJsonSchema,
  withConfigReference,
} from './config-docs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

describe('what is generated from the config schema', () => {
  it('the published JSON Schema is the current one (else run npm run docs)', () => {
    expect(JSON.parse(read(CONFIG_SCHEMA_FILE))).toEqual(repoConfigJsonSchema());
  });

  it('the README’s config reference is the current one (else run npm run docs)', () => {
    // biome aligns Markdown tables: compare the cells, not the padding.
    const cells = (markdown: string) =>
      markdown.replace(/ +\|/g, ' |').replace(/\| +/g, '| ').replace(/-{3,}/g, '---');
    const readme = read('README.md');
    expect(cells(withConfigReference(readme))).toBe(cells(readme));
  });

  it('describes what the parser accepts: one string or a list, numbers for quantities, closed objects', () => {
    const schema = repoConfigJsonSchema() as {
      properties: Record<
        string,
        { anyOf?: { type: string }[]; additionalProperties?: boolean; properties?: never }
      >;
      additionalProperties: boolean;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.manifests?.anyOf?.map((s) => s.type)).toEqual(['string', 'array']);
    expect(schema.properties.labels?.anyOf?.map((s) => s.type)).toEqual(['string', 'array']);
    expect(schema.properties.expose?.additionalProperties).toBe(false);
    const reference = configReference();
    expect(reference).toContain('| `resources.requests.cpu` | string or number |');
    expect(reference).toContain('| `forks` | `approve`, `never`, `always` | `"approve"` |');
    expect(reference).toContain('| `ttl` | string | `"7d"` |');
    expect(reference).toContain(
      '| `podSecurity` | `baseline`, `restricted` |  | restricted is the default; baseline lowers it where the service allows; privileged is never a repository’s choice',
    );
  });
});
