// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { variablesSchema } from './variables.ts';

/**
 * The repository's preview config, `.github/vcluster-preview.yml`: its schema, and a parser whose
 * errors point at the line of the file and say what to do, since the person reading them is the
 * author of a pull request, not the operator of the service.
 */

export const REPO_CONFIG_PATH = '.github/vcluster-preview.yml';

/** Placeholders a `urlTemplate` may use; `preview.host` is what the template produces, so it is not one. */
export const URL_TEMPLATE_KEYS = ['pr.number', 'sha', 'repo.name', 'repo.owner', 'baseDomain'] as const;

/**
 * Previews live under the service's domain, and two repositories' pull requests never share a host:
 * the owner is part of the default (the service serves many owners).
 */
export const DEFAULT_URL_TEMPLATE =
  'pr-${{ pr.number }}-${{ repo.name }}-${{ repo.owner }}.${{ baseDomain }}';

/** How every `urlTemplate` ends: previews are subdomains of the service's `BASE_DOMAIN`, nothing else. */
export const URL_TEMPLATE_SUFFIX = '.${{ baseDomain }}';

const isDuration = (text: string): boolean => {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------------------------------------------
// Placeholders

const placeholderPattern = /\$\{\{\s*([^}]*?)\s*\}\}/g;

/** Values for `${{ … }}` placeholders, by dotted key, flat (`{ 'pr.number': 12 }`) or nested (`{ pr: { number: 12 } }`). */
export interface TemplateValues {
  readonly [key: string]: string | number | boolean | TemplateValues;
}

/** A placeholder with no value: a typo in the user's files, so it is reported rather than left in. */
export class SubstitutionError extends Error {
  override name = 'SubstitutionError';
  constructor(
    readonly unknown: string[],
    readonly known: string[],
  ) {
    super(
      `unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `\${{ ${key} }}`).join(', ')} (use one of ${known.map((key) => `\${{ ${key} }}`).join(', ')})`,
    );
  }
}

const lookup = (values: TemplateValues, key: string): string | undefined => {
  const flat = values[key];
  if (flat !== undefined && typeof flat !== 'object') return String(flat);
  let current: TemplateValues | string | number | boolean | undefined = values;
  for (const part of key.split('.')) {
    if (typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current === undefined || typeof current === 'object' ? undefined : String(current);
};

const knownKeys = (values: TemplateValues, prefix = ''): string[] =>
  Object.entries(values).flatMap(([key, value]) =>
    typeof value === 'object' ? knownKeys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );

/** The placeholders `text` uses, in order of first appearance. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(placeholderPattern)].map((match) => match[1] ?? ''))];
}

/**
 * `text` with every `${{ key }}` replaced by its value (`pr.number`, `sha`, `preview.host`, `repo.name`,
 * `repo.owner`, or any other key in `values`). Throws a SubstitutionError listing all unknown ones,
 * so a user fixes them in one go.
 */
export function substitute(text: string, values: TemplateValues): string {
  const unknown = placeholdersIn(text).filter((key) => lookup(values, key) === undefined);
  if (unknown.length > 0) throw new SubstitutionError(unknown, knownKeys(values));
  return text.replace(placeholderPattern, (_match, key: string) => lookup(values, key) ?? '');
}

// ---------------------------------------------------------------------------------------------------
// Schema

/** A path inside the repository: the service reads it through the API, so it may not leave the repository. */
const repoPath = z
  .string()
  .trim()
  .min(1)
  .refine((path) => !path.startsWith('/') && !/^[A-Za-z]:/.test(path), 'is absolute')
  .refine((path) => !path.split(/[/\\]/).includes('..'), 'leaves the repository (..)')
  .transform((path) => path.replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/') || '.');

/**
 * What a field accepts beyond what its parsed value is, for the JSON Schema of the file (zod's
 * schema of a preprocessed field describes the value after preprocessing): `config-docs.ts`.
 */
export const ACCEPTS = 'x-vcluster-preview-accepts';

/** One string or a list of them, as a list: `labels: preview` reads as well as `labels: [preview]`. */
const oneOrMany = <T extends z.ZodType>(item: T) =>
  z
    .preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(item).min(1))
    .meta({ [ACCEPTS]: 'one-or-many' });

const duration = z.string().trim().refine(isDuration, 'is not a duration');

/** Kubernetes quantities; YAML reads `cpu: 2` as a number, which Kubernetes accepts too. */
const quantity = z
  .preprocess(
    (value) => (typeof value === 'number' ? String(value) : value),
    z.string().regex(/^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, 'is not a quantity'),
  )
  .meta({ [ACCEPTS]: 'string-or-number' });

const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

const helmSchema = z.strictObject({
  chart: repoPath,
  values: z.record(z.string(), z.unknown()).default({}),
  valuesFiles: z.array(repoPath).default([]),
});

const exposeSchema = z.strictObject({
  service: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'is not a Service name')
    .max(63),
  port: z.number().int().min(1).max(65535),
  // A plain path: it becomes an Ingress path of the host's controller, so nothing that a controller
  // could read as more than a path (`..`, `//`, encodings, queries, regular expressions, spaces).
  path: z
    .string()
    .superRefine((path, ctx) => {
      const problem = !path.startsWith('/')
        ? 'does not start with /'
        : !/^(\/[A-Za-z0-9._~-]+)*\/?$/.test(path)
          ? 'is not a plain URL path'
          : path.split('/').some((segment) => segment === '..' || segment === '.')
            ? 'has a . or .. segment'
            : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('/'),
});

const resourcesSchema = z.strictObject({
  requests: resourceList.optional(),
  limits: resourceList.optional(),
});

const urlTemplate = z.string().superRefine((template, ctx) => {
  const unknown = placeholdersIn(template).filter(
    (key) => !(URL_TEMPLATE_KEYS as readonly string[]).includes(key),
  );
  if (unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `uses unknown ${unknown.map((key) => `\${{ ${key} }}`).join(', ')}`,
    });
  }
  if (!/^[a-z0-9.-]+$/.test(template.replace(placeholderPattern, 'x'))) {
    ctx.addIssue({ code: 'custom', message: 'is not a host name' });
  }
  // Only the service's domain: a template may not name a host of its own (www.victim.com) or put
  // anything after the domain; the part before it picks the preview's name under it.
  const prefix = template.endsWith(URL_TEMPLATE_SUFFIX)
    ? template.slice(0, -URL_TEMPLATE_SUFFIX.length)
    : undefined;
  if (
    prefix === undefined ||
    !/[a-z0-9]/.test(prefix.replace(placeholderPattern, 'x')) ||
    placeholdersIn(prefix).includes('baseDomain')
  ) {
    ctx.addIssue({
      code: 'custom',
      message: `does not end in ${URL_TEMPLATE_SUFFIX} with a name before it: previews are served only under the service's domain`,
    });
  }
});

/** CI checks of the head commit that must succeed before it is deployed (its images are pushed by then). */
const waitForSchema = z.strictObject({
  checks: oneOrMany(z.string().trim().min(1)),
  timeout: duration.default('30m'),
});

/** A Secret's (or Namespace's) name as Kubernetes takes it: a DNS subdomain, a DNS label for namespaces. */
const secretName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'is not a Secret name')
  .max(253);
const namespaceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'is not a namespace name')
  .max(63);

/**
 * A host Secret the operator lets this repository have, copied into the virtual cluster with only
 * the keys listed: which names are allowed is the service's setting (PREVIEW_HOST_SECRETS), not this file's.
 */
const hostSecretSchema = z.strictObject({
  fromHostSecret: secretName,
  keys: z
    .array(
      z
        .string()
        .regex(/^[-._a-zA-Z0-9]+$/, 'is not a Secret key')
        .max(253),
    )
    .min(1),
  as: secretName.optional(),
  namespace: namespaceName.default('default'),
});

const seedSchema = z.strictObject({ job: repoPath });

const repoConfigShape = {
  manifests: oneOrMany(repoPath).optional(),
  helm: helmSchema.optional(),
  kustomize: repoPath.optional(),
  expose: exposeSchema.optional(),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a variable name'), z.string())
    .default({}),
  resources: resourcesSchema.optional(),
  ttl: duration.default('7d'),
  sleepAfter: duration.default('1h'),
  forks: z.enum(['approve', 'never', 'always']).default('approve'),
  drafts: z.boolean().default(false),
  labels: oneOrMany(z.string().trim().min(1)).default([]),
  urlTemplate: urlTemplate.default(DEFAULT_URL_TEMPLATE),
  waitFor: waitForSchema.optional(),
  secrets: z
    .array(hostSecretSchema)
    .superRefine((secrets, ctx) => {
      const seen = new Set<string>();
      secrets.forEach((secret, index) => {
        const target = `${secret.namespace}/${secret.as ?? secret.fromHostSecret}`;
        if (seen.has(target))
          ctx.addIssue({ code: 'custom', message: `copies a second Secret to ${target}`, path: [index] });
        seen.add(target);
      });
    })
    .optional(),
  seed: seedSchema.optional(),
  /** Names a workflow may set for `${{ variables.NAME }}`, each with the value used when none does. */
  variables: variablesSchema.default({}),
  podSecurity: z.enum(['baseline', 'restricted']).optional(),
};

const NOTHING_TO_DEPLOY = 'nothing to deploy';
const deployFields = ['manifests', 'helm', 'kustomize'];

export const repoConfigSchema = z.strictObject(repoConfigShape).superRefine((config, ctx) => {
  if (!config.manifests && !config.helm && !config.kustomize) {
    ctx.addIssue({ code: 'custom', message: NOTHING_TO_DEPLOY, path: [] });
  }
});

/** The parsed config, with defaults filled in, paths relative to the repository root, durations as written. */
export type RepoConfig = z.output<typeof repoConfigSchema>;

/** Allowed keys of each strict object, by path, for "unknown field" hints. */
const fieldsByPath: Record<string, string[]> = {
  '': Object.keys(repoConfigShape),
  helm: Object.keys(helmSchema.shape),
  expose: Object.keys(exposeSchema.shape),
  resources: Object.keys(resourcesSchema.shape),
  'resources.requests': Object.keys(resourceList.shape),
  'resources.limits': Object.keys(resourceList.shape),
  waitFor: Object.keys(waitForSchema.shape),
  'secrets[]': Object.keys(hostSecretSchema.shape),
  seed: Object.keys(seedSchema.shape),
};

/** What to do, by field (`[]` for any list item, `*` for any map key). */
export const fieldHints: Record<string, string> = {
  '': 'say what to deploy with manifests:, helm: or kustomize:',
  manifests: 'give a folder or file in the repository, like k8s/, or a list of them',
  'manifests[]': 'give a path relative to the repository root, like k8s/app.yaml',
  helm: 'give at least chart: with the chart folder, like charts/app',
  'helm.chart': 'give the chart folder relative to the repository root, like charts/app',
  'helm.values': 'give a mapping of chart values',
  'helm.valuesFiles': 'give a list of values files relative to the repository root',
  'helm.valuesFiles[]': 'give a path relative to the repository root, like charts/app/values-preview.yaml',
  kustomize: 'give the folder that holds kustomization.yaml, like k8s/overlays/preview',
  expose: 'give service: and port: of the Service that serves the app',
  'expose.service': 'give the name of the Service in your manifests that serves the app, like web',
  'expose.port': 'give the port number of that Service, like 80 or 8080',
  'expose.path': 'give a plain URL path starting with /, like / or /app/ (letters, digits, - _ . ~ and /)',
  env: 'give a mapping of NAME: "value"',
  'env.*': 'quote the value, like "1.10" or "true"',
  resources: 'give requests: and/or limits:, each with cpu: and memory:',
  'resources.requests': 'give cpu: and/or memory:',
  'resources.limits': 'give cpu: and/or memory:',
  'resources.requests.cpu': 'use a Kubernetes quantity like 250m or 1',
  'resources.limits.cpu': 'use a Kubernetes quantity like 500m or 2',
  'resources.requests.memory': 'use a Kubernetes quantity like 128Mi or 1Gi',
  'resources.limits.memory': 'use a Kubernetes quantity like 512Mi or 2Gi',
  ttl: 'use a number and a unit s, m, h, d or w, like 72h or 7d',
  sleepAfter: 'use a number and a unit s, m, h, d or w, like 30m or 1h',
  forks: 'approve: deploy after a maintainer comments /vcluster approve; never; always',
  drafts: 'use true or false',
  labels: 'give a label name or a list of them, like [preview]',
  'labels[]': 'give a label name, like preview',
  urlTemplate: `build a name from ${URL_TEMPLATE_KEYS.filter((key) => key !== 'baseDomain')
    .map((key) => `\${{ ${key} }}`)
    .join(', ')}, letters, digits, - and ., ending in ${URL_TEMPLATE_SUFFIX}, like ${DEFAULT_URL_TEMPLATE}`,
  waitFor: 'give checks: with the names of the check runs to wait for, like [build]',
  'waitFor.checks': 'give a check run name or a list of them, as the Checks tab shows them, like [build]',
  'waitFor.checks[]': 'give a check run name, like build',
  'waitFor.timeout': 'use a number and a unit s, m, h, d or w, like 30m or 1h',
  secrets:
    'give a list of host Secrets the operator allows, like [{ fromHostSecret: db-creds, keys: [password] }]',
  'secrets[]': 'give fromHostSecret: and keys:, and optionally as: and namespace:; each target Secret once',
  'secrets[].fromHostSecret':
    "give the name of a host Secret the service's operator allows for this repository (PREVIEW_HOST_SECRETS)",
  'secrets[].keys': 'give the list of keys to copy, like [username, password]',
  'secrets[].keys[]': 'give a key of that Secret (letters, digits, -, _ and .)',
  'secrets[].as': 'give the name the Secret gets in the virtual cluster (lowercase letters, digits, - and .)',
  'secrets[].namespace': 'give the namespace of the virtual cluster it goes to (default: default)',
  seed: 'give job: with the path of a Job manifest, like k8s/seed-job.yaml',
  'seed.job': 'give the path of a Job manifest relative to the repository root, like k8s/seed-job.yaml',
  variables:
    'give a mapping of name: "default value" for ${{ variables.name }}; a workflow may set them with the Action\'s variables: input',
  'variables.*': 'quote the value, one line of at most 1024 characters, like "ghcr.io/acme/shop:main"',
  podSecurity:
    'restricted is the default; baseline lowers it where the service allows; privileged is never a repository’s choice',
};

// ---------------------------------------------------------------------------------------------------
// Errors

export interface RepoConfigProblem {
  /** 1-based line in the file. */
  line: number;
  /** Dotted path of the field, `helm.valuesFiles[0]`; empty for the file as a whole. */
  path: string;
  /** What is wrong. */
  message: string;
  /** What to do, when there is something specific to say. */
  hint?: string;
}

/** The config file is not usable; `message` has one line per problem, `file:LINE: field: what (what to do)`. */
export class RepoConfigError extends Error {
  override name = 'RepoConfigError';
  constructor(readonly problems: RepoConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

const formatProblem = (problem: RepoConfigProblem): string =>
  `${REPO_CONFIG_PATH}:${problem.line}: ${problem.path || '(top level)'}: ${problem.message}${problem.hint ? ` (${problem.hint})` : ''}`;

type PathSegment = PropertyKey;

const formatPath = (path: readonly PathSegment[]): string =>
  path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index > 0 ? '.' : ''}${String(segment)}`,
    )
    .join('');

/** Maps whose keys are the user's own (`env`): hints are per value, not per key. */
const freeKeyMaps = new Set(['env', 'variables']);

/** What a key of a free-key map may be, by map. */
const keyHints: Record<string, string> = {
  env: 'use letters, digits and _, not starting with a digit',
  variables: 'use lowercase letters, digits and _, starting with a letter, like image',
};

/** The hint key of a path: list indexes become `[]`, keys of a free-key map become `*`. */
const hintKey = (path: readonly PathSegment[]): string =>
  path
    .map((segment, index) => {
      if (typeof segment === 'number') return '[]';
      const parent = formatPath(path.slice(0, index));
      return `${index > 0 ? '.' : ''}${freeKeyMaps.has(parent) ? '*' : String(segment)}`;
    })
    .join('');

const describe = (value: unknown): string => {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  // Escaped, so a value with a line break stays on its problem's line.
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
};

const yamlTypeNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** Edits between two words, a swap of neighbours counting as one (optimal string alignment). */
const distance = (a: string, b: string): number => {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
};

/** The allowed field a typo most likely meant: same letters ignoring case, `_` and `-`, or one or two edits away. */
export function closestField(typo: string, allowed: readonly string[]): string | undefined {
  const normal = (key: string) => key.toLowerCase().replace(/[-_]/g, '');
  let best: { field: string; score: number } | undefined;
  for (const field of allowed) {
    const score = distance(normal(typo), normal(field));
    if (score <= Math.min(2, Math.floor(field.length / 3)) && (!best || score < best.score))
      best = { field, score };
  }
  return best?.field;
}

/** The value a problem is about, when it is short enough to quote. */
const quoted = (value: unknown): string =>
  value === undefined || typeof value === 'object' ? '' : `${describe(value)} `;

/** One zod issue as problems (an unknown-keys issue names several keys, each reported on its own line). */
const problemsOf = (issue: z.core.$ZodIssue): Omit<RepoConfigProblem, 'line'>[] => {
  const path = issue.path;
  const hint = fieldHints[hintKey(path)];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = fieldsByPath[formatPath(path)] ?? fieldsByPath[hintKey(path)] ?? [];
      return issue.keys.map((key) => {
        const guess = closestField(key, allowed);
        return {
          path: formatPath([...path, key]),
          message: 'unknown field',
          hint: guess ? `did you mean ${guess}?` : `allowed here: ${allowed.join(', ')}`,
        };
      });
    }
    case 'invalid_type': {
      if (issue.input === undefined) return [{ path: formatPath(path), message: 'is required', hint }];
      const expected = yamlTypeNames[issue.expected] ?? issue.expected;
      return [
        { path: formatPath(path), message: `expected ${expected}, got ${describe(issue.input)}`, hint },
      ];
    }
    case 'invalid_key':
      return [
        {
          path: formatPath(path),
          message: `${quoted(issue.input)}${issue.issues[0]?.message ?? 'is not a valid key'}`,
          hint: keyHints[formatPath(path.slice(0, -1))] ?? keyHints.env,
        },
      ];
    case 'invalid_value':
      return [
        {
          path: formatPath(path),
          message: `expected one of ${issue.values.map(String).join(', ')}, got ${describe(issue.input)}`,
          hint,
        },
      ];
    case 'too_small':
      return [
        {
          path: formatPath(path),
          message:
            issue.origin === 'array' || issue.origin === 'string'
              ? 'is empty'
              : `must be at least ${issue.minimum}`,
          hint,
        },
      ];
    case 'too_big':
      return [
        {
          path: formatPath(path),
          message:
            issue.origin === 'string'
              ? `is longer than ${issue.maximum} characters`
              : `must be at most ${issue.maximum}`,
          hint,
        },
      ];
    default:
      return [{ path: formatPath(path), message: `${quoted(issue.input)}${issue.message}`, hint }];
  }
};

// ---------------------------------------------------------------------------------------------------
// Locating a path in the YAML

/** The line of the deepest node on `path` that exists: the key's line for a map entry, the item's for a list. */
const lineOf = (
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
) => {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!item) break;
      offset = (item as Node).range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineCounter.linePos(offset).line;
};

/** `parseDocument`'s error messages sometimes end in " at line N, column M:" and a code frame; the line is ours to say. */
const firstLine = (message: string): string =>
  (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');

/**
 * The config in `text`, validated, with defaults filled in. Throws a RepoConfigError listing every
 * problem (YAML syntax, unknown fields, wrong types and values) with its line.
 */
export function parseRepoConfig(text: string): RepoConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RepoConfigError(
      doc.errors.map((error) => ({
        line: lineCounter.linePos(error.pos[0]).line,
        path: '',
        message: `YAML: ${firstLine(error.message)}`,
        hint: 'fix the syntax; a YAML linter shows the exact spot',
      })),
    );
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    throw new RepoConfigError([{ line: 1, path: '', message: 'the file is empty', hint: fieldHints[''] }]);
  }
  const result = repoConfigSchema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    // Unknown keys point at the key itself; everything else at the field it is about.
    const located = (problem: Omit<RepoConfigProblem, 'line'>, key?: string) => ({
      line: lineOf(doc, lineCounter, key === undefined ? issue.path : [...issue.path, key]),
      ...problem,
    });
    return issue.code === 'unrecognized_keys'
      ? problemsOf(issue).map((problem, index) => located(problem, issue.keys[index]))
      : problemsOf(issue).map((problem) => located(problem));
  });
  // `manifest: k8s/` is one mistake, not two: the typo already says what is missing.
  const typoOfDeployField = problems.some(
    (problem) =>
      problem.message === 'unknown field' &&
      deployFields.some((field) => problem.hint === `did you mean ${field}?`),
  );
  const relevant = typoOfDeployField
    ? problems.filter((problem) => !(problem.path === '' && problem.message === NOTHING_TO_DEPLOY))
    : problems;
  throw new RepoConfigError(relevant.sort((a, b) => a.line - b.line));
}
