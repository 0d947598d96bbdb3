import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The arrows between folders that ../shared/DESIGN.md allows: app → preview (through its one door,
 * preview/index.ts) → syncer / controlplane / kube; syncer → kube; controlplane, kube and action
 * import nothing of ours; cli imports anything. Tests (`*.test.ts`), test/ and bench/ may import
 * anything. Every import of the tree is read and held to these.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const ALLOWED: Record<string, readonly string[]> = {
  app: ['preview'],
  preview: ['controlplane', 'syncer', 'kube'],
  syncer: ['kube'],
  controlplane: [],
  kube: [],
  action: [],
  cli: ['app', 'preview', 'syncer', 'controlplane', 'kube'],
};

/** The one file of preview/ that app/ may import. */
const PREVIEW_DOOR = 'preview/index.ts';

/** What is wrong with an import of `to` from `from` (repository-relative paths), or undefined. */
function arrowProblem(from: string, to: string): string | undefined {
  const [source = ''] = from.split('/');
  const [target = ''] = to.split('/');
  const allowed = ALLOWED[source];
  if (!allowed || source === target || /\.test\.ts$/.test(from)) return undefined;
  if (!(target in ALLOWED)) return undefined;
  if (!allowed.includes(target)) return `${from} imports ${to}: ${source}/ may not import ${target}/`;
  if (source === 'app' && target === 'preview' && to !== PREVIEW_DOOR)
    return `${from} imports ${to}: app/ reaches preview/ only through ${PREVIEW_DOOR}`;
  return undefined;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Repository-relative paths of what `file` imports of the tree (relative specifiers only). */
function importsOf(file: string, text: string): string[] {
  return [...text.matchAll(SPECIFIER)].map((match) =>
    relative(root, resolve(root, dirname(file), match[1] ?? ''))
      .split(sep)
      .join('/'),
  );
}

function sources(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') found.push(...sources(path));
    } else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.mts')) {
      found.push(path);
    }
  }
  return found;
}

describe('import boundaries between folders', () => {
  it('every import of the tree follows an arrow DESIGN.md allows', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const folder of Object.keys(ALLOWED)) {
      for (const file of sources(folder)) {
        for (const target of importsOf(file, readFileSync(join(root, file), 'utf8'))) {
          checked++;
          const problem = arrowProblem(file, target);
          if (problem) problems.push(problem);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(500);
  });

  it.each([
    ['syncer/kinds/pods.ts', 'app/desired-state.ts', 'syncer/ may not import app/'],
    ['preview/provider.ts', 'cli/main.ts', 'preview/ may not import cli/'],
    ['app/serve.ts', 'preview/providers/index.ts', 'app/ reaches preview/ only through preview/index.ts'],
    ['app/serve.ts', 'kube/client.ts', 'app/ may not import kube/'],
    ['controlplane/cluster.ts', 'kube/wait.ts', 'controlplane/ may not import kube/'],
    ['action/src/main.ts', 'app/api/api-error.ts', 'action/ may not import app/'],
  ])('an arrow against DESIGN.md is found: %s → %s', (from, to, problem) => {
    expect(arrowProblem(from, to)).toContain(problem);
  });

  it.each([
    ['app/serve.ts', 'preview/index.ts'],
    ['preview/deploy/apply.ts', 'kube/client.ts'],
    ['cli/up.ts', 'app/serve-command.ts'],
    ['syncer/kinds/pods.test.ts', 'test/support/kubectl.ts'],
    ['app/queue/preview-worker.ts', 'app/errors/rate-limited-error.ts'],
  ])('an allowed arrow passes: %s → %s', (from, to) => {
    expect(arrowProblem(from, to)).toBeUndefined();
  });

  it('reads static, side-effect and dynamic imports, and resolves them from the file', () => {
    const text = [
      "import { a } from '../kube/client.ts';",
      "import './side-effect.ts';",
      "export { b } from './deploy/index.ts';",
      "const c = await import('../app/serve.ts');",
      "import { d } from 'bullmq';",
    ].join('\n');
    expect(importsOf('preview/thing.ts', text)).toEqual([
      'kube/client.ts',
      'preview/side-effect.ts',
      'preview/deploy/index.ts',
      'app/serve.ts',
    ]);
  });
});
