/**
 * `npm run docs`: writes what is generated from the config schema: the published JSON Schema of
 * `.github/vcluster-preview.yml` and the config reference in the README. preview/config-docs.test.ts
 * fails when either is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CONFIG_SCHEMA_FILE, repoConfigJsonSchema, withConfigReference } from '../preview/config-docs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
await writeFile(`${root}${CONFIG_SCHEMA_FILE}`, `${JSON.stringify(repoConfigJsonSchema(), null, 2)}\n`);
const readme = `${root}README.md`;
await writeFile(readme, withConfigReference(await readFile(readme, 'utf8')));
console.log(`wrote ${CONFIG_SCHEMA_FILE} and the config reference in README.md`);
