// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${{ key }}` is the placeholder syntax of the config file.
import type { KubernetesObject, V1Container, V1EnvVar, V1PodSpec } from '@kubernetes/client-node';
import { LineCounter, parseAllDocuments } from 'yaml';
import {
  placeholdersIn,
  REPO_CONFIG_PATH,
  type RepoConfig,
  SubstitutionError,
  substitute,
  type TemplateValues,
} from '../repo-config.ts';
import { annotateConfigChecksums } from './config-checksum.ts';
import {
  CLUSTER_SCOPED_KINDS,
  COMMIT_ANNOTATION,
  describeRef,
  groupOf,
  identityOf,
  MANAGED_LABEL,
  refOf,
  SOURCE_ANNOTATION,
} from './objects.ts';

/**
 * Rendering the app's manifests (pure): the user's YAML files, with `${{ … }}` placeholders filled
 * in, become the objects to apply, each labelled as ours, defaulted and given the preview's
 * environment variables and resources. Problems are reported all at once, each with its file and line.
 */

/** One file of manifests: its path in the repository (for messages) and its text. */
export interface ManifestFile {
  path: string;
  content: string;
  /**
   * Whether `${{ … }}` placeholders are filled in (default true). Generated text, like the output
   * of `helm template`, is not the user's to write placeholders in, so it is left as it is.
   */
  substitute?: boolean;
}

/** What of the repo config shapes the objects. */
export type RenderConfig = Partial<Pick<RepoConfig, 'env' | 'resources'>>;

export interface ManifestProblem {
  /** The file, as given (`deploy/app.yaml`, `.github/vcluster-preview.yml`). */
  file: string;
  /** 1-based line, when known. */
  line?: number;
  message: string;
}

/** The manifests cannot be rendered; the message has one `file:line: what` line per problem. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  constructor(readonly problems: ManifestProblem[]) {
    super(
      problems
        .map((problem) => `${problem.file}${problem.line ? `:${problem.line}` : ''}: ${problem.message}`)
        .join('\n'),
    );
  }
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

/** The pod spec of a workload (Deployments, StatefulSets, DaemonSets, Jobs, ReplicaSets, CronJobs, Pods). */
export function podSpecOf(object: KubernetesObject): V1PodSpec | undefined {
  const spec = (object as { spec?: Record<string, unknown> }).spec;
  if (!spec || typeof spec !== 'object') return undefined;
  const kind = object.kind ?? '';
  let podSpec: unknown;
  if (WORKLOAD_KINDS.has(kind)) podSpec = (spec.template as { spec?: unknown } | undefined)?.spec;
  else if (kind === 'CronJob')
    podSpec = (
      (spec.jobTemplate as { spec?: { template?: { spec?: unknown } } } | undefined)?.spec?.template as
        | { spec?: unknown }
        | undefined
    )?.spec;
  else if (kind === 'Pod' && groupOf(object.apiVersion ?? '') === '') podSpec = spec;
  return podSpec && typeof podSpec === 'object' ? (podSpec as V1PodSpec) : undefined;
}

const lineAt = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** The line of the first use of each unknown placeholder. */
function substitutionProblems(file: string, text: string, error: SubstitutionError): ManifestProblem[] {
  const known = error.known.map((key) => `\${{ ${key} }}`).join(', ');
  return error.unknown.map((key) => {
    const pattern = /\$\{\{\s*([^}]*?)\s*\}\}/g;
    let line: number | undefined;
    for (const match of text.matchAll(pattern)) {
      if (match[1] === key) {
        line = lineAt(text, match.index);
        break;
      }
    }
    return { file, line, message: `unknown placeholder \${{ ${key} }} (use one of ${known})` };
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The commit the values describe (`sha`), for the commit annotation. */
function commitOf(values: TemplateValues): string | undefined {
  const sha = values.sha;
  return typeof sha === 'string' || typeof sha === 'number' ? String(sha) : undefined;
}

/** Objects of one YAML document: the document itself, or the items of a `kind: List`. */
function objectsOfDocument(
  data: unknown,
  file: string,
  line: number,
  problems: ManifestProblem[],
): KubernetesObject[] {
  if (data === null || data === undefined) return [];
  if (!isRecord(data)) {
    problems.push({ file, line, message: 'a document is not a mapping (expected a Kubernetes object)' });
    return [];
  }
  if (typeof data.kind === 'string' && data.kind.endsWith('List') && Array.isArray(data.items)) {
    return data.items.flatMap((item) => objectsOfDocument(item, file, line, problems));
  }
  const missing = ['apiVersion', 'kind'].filter((field) => typeof data[field] !== 'string' || !data[field]);
  const metadata = data.metadata;
  const name = isRecord(metadata) ? metadata.name : undefined;
  if (typeof name !== 'string' || !name) missing.push('metadata.name');
  if (missing.length > 0) {
    const generate = isRecord(metadata) && metadata.generateName !== undefined;
    problems.push({
      file,
      line,
      message: `object without ${missing.join(', ')}${generate ? ' (generateName is not supported: server-side apply needs a fixed name)' : ''}`,
    });
    return [];
  }
  return [data as KubernetesObject];
}

/** `name` of every CRD-defined kind that is cluster-scoped, from CRDs among the objects. */
function clusterScopedCustomKinds(objects: KubernetesObject[]): Set<string> {
  const kinds = new Set<string>();
  for (const object of objects) {
    if (object.kind !== 'CustomResourceDefinition') continue;
    const spec = (object as { spec?: { scope?: string; group?: string; names?: { kind?: string } } }).spec;
    if (spec?.scope === 'Cluster' && spec.names?.kind) kinds.add(`${spec.group ?? ''}/${spec.names.kind}`);
  }
  return kinds;
}

/** Config env vars first replace a container's own of the same name, the rest are appended. */
function withEnv(container: V1Container, env: V1EnvVar[]): void {
  const own = [...(container.env ?? [])];
  for (const variable of env) {
    const index = own.findIndex((existing) => existing.name === variable.name);
    if (index >= 0) own[index] = { ...variable };
    else own.push({ ...variable });
  }
  container.env = own;
}

const hasResources = (container: V1Container): boolean => {
  const { requests, limits } = container.resources ?? {};
  return Object.keys(requests ?? {}).length > 0 || Object.keys(limits ?? {}).length > 0;
};

/**
 * The objects of `files`: multi-document YAML (or JSON), `${{ … }}` placeholders replaced from
 * `values`, namespaced objects defaulted to `default`, every object labelled
 * `vcluster-preview.dev/managed=true` and annotated with the commit (`values.sha`) and its file;
 * the config's `env` added to (and winning over) every container's environment, its `resources`
 * given to every container that has none. Throws a ManifestError listing every problem.
 */
export function renderManifests(
  files: readonly ManifestFile[],
  values: TemplateValues,
  config: RenderConfig = {},
): KubernetesObject[] {
  const problems: ManifestProblem[] = [];
  const rendered: { object: KubernetesObject; file: string; line: number }[] = [];

  const env: V1EnvVar[] = [];
  for (const [name, value] of Object.entries(config.env ?? {})) {
    try {
      env.push({ name, value: substitute(value, values) });
    } catch (error) {
      if (!(error instanceof SubstitutionError)) throw error;
      problems.push({ file: REPO_CONFIG_PATH, message: `env.${name}: ${error.message}` });
    }
  }

  for (const file of files) {
    let text = file.content;
    if (file.substitute !== false && placeholdersIn(text).length > 0) {
      try {
        text = substitute(text, values);
      } catch (error) {
        if (!(error instanceof SubstitutionError)) throw error;
        problems.push(...substitutionProblems(file.path, text, error));
        continue;
      }
    }
    const lineCounter = new LineCounter();
    const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
    if (!Array.isArray(documents)) continue; // an empty stream
    for (const document of documents) {
      const line = lineCounter.linePos(document.contents?.range?.[0] ?? document.range[0]).line;
      if (document.errors.length > 0) {
        for (const error of document.errors) {
          problems.push({
            file: file.path,
            line: lineCounter.linePos(error.pos[0]).line,
            message: `YAML: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
          });
        }
        continue;
      }
      const data: unknown = document.toJS({ maxAliasCount: 100 });
      for (const object of objectsOfDocument(data, file.path, line, problems)) {
        rendered.push({ object: structuredClone(object), file: file.path, line });
      }
    }
  }

  const customClusterScoped = clusterScopedCustomKinds(rendered.map(({ object }) => object));
  const commit = commitOf(values);
  const seen = new Map<string, { file: string; line: number }>();
  for (const { object, file, line } of rendered) {
    const kind = object.kind ?? '';
    const clusterScoped =
      CLUSTER_SCOPED_KINDS.has(kind) ||
      customClusterScoped.has(`${groupOf(object.apiVersion ?? '')}/${kind}`);
    const metadata = object.metadata ?? {};
    object.metadata = metadata;
    if (clusterScoped) delete metadata.namespace;
    else metadata.namespace ||= 'default';

    const identity = identityOf(refOf(object));
    const first = seen.get(identity);
    if (first) {
      problems.push({
        file,
        line,
        message: `${describeRef(refOf(object))} is defined twice (also in ${first.file}:${first.line})`,
      });
      continue;
    }
    seen.set(identity, { file, line });

    metadata.labels = { ...metadata.labels, [MANAGED_LABEL]: 'true' };
    metadata.annotations = {
      ...metadata.annotations,
      [SOURCE_ANNOTATION]: file,
      ...(commit ? { [COMMIT_ANNOTATION]: commit } : {}),
    };

    const podSpec = podSpecOf(object);
    if (podSpec) {
      for (const container of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
        if (env.length > 0) withEnv(container, env);
        if (config.resources && !hasResources(container))
          container.resources = structuredClone(config.resources);
      }
    }
  }

  if (problems.length > 0) throw new ManifestError(problems);
  annotateConfigChecksums(rendered.map(({ object }) => object));
  if (rendered.length === 0)
    throw new ManifestError([
      {
        file: files.map((file) => file.path).join(', ') || '(no files)',
        message: 'no Kubernetes objects found (add YAML manifests with apiVersion, kind and metadata.name)',
      },
    ]);
  return rendered.map(({ object }) => object);
}
