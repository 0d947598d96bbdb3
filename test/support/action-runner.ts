import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { GitHubDouble } from './github-double.ts';
import { type PullRequestAction, type PullRequestSpec, pullRequestEvent } from './webhooks.ts';

/**
 * The bundled Action (action/dist/index.js) run as the runner runs it: a node process with the
 * runner's environment (INPUT_*, GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP,
 * the OIDC token request URL of the GitHub double).
 */

const ROOT = join(import.meta.dirname, '..', '..');
export const ACTION_BUNDLE = join(ROOT, 'action', 'dist', 'index.js');
const ACTION_YML = join(ROOT, 'action.yml');

/** What the runner sets for a step: each input (its action.yml default when not given) as INPUT_<NAME>. */
function inputEnv(given: Record<string, string>): Record<string, string> {
  const declared = parse(readFileSync(ACTION_YML, 'utf8')).inputs as Record<string, { default?: string }>;
  const env: Record<string, string> = {};
  for (const [name, input] of Object.entries(declared)) {
    const value = given[name] ?? input.default;
    // @actions/core reads INPUT_ + the name in upper case with spaces as underscores (dashes stay).
    if (value !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  return env;
}

/** GITHUB_OUTPUT's `name<<delimiter` blocks, as @actions/core writes them. */
function readOutputs(path: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let index = 0; index < lines.length; index++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[index]!);
    if (!match) continue;
    const value: string[] = [];
    for (index++; lines[index] !== match[2]; index++) value.push(lines[index]!);
    outputs[match[1]!] = value.join('\n');
  }
  return outputs;
}

export interface ActionRun {
  code: number;
  stdout: string;
  outputs: Record<string, string>;
  /** GITHUB_OUTPUT as written, to check what is not in it. */
  outputFile: string;
  summary: string;
  runnerTemp: string;
}

export interface RunActionOptions {
  github: GitHubDouble;
  serviceUrl: string;
  spec: PullRequestSpec;
  inputs?: Record<string, string>;
  /** The pull_request event's action; default `opened`. */
  event?: PullRequestAction;
  /** Default 90 s. */
  timeoutMs?: number;
}

export async function runAction(options: RunActionOptions): Promise<ActionRun> {
  const { github, spec } = options;
  const repository = `${spec.owner}/${spec.repo}`;
  const dir = mkdtempSync(join(tmpdir(), 'vcp-action-'));
  const files = {
    event: join(dir, 'event.json'),
    output: join(dir, 'output'),
    summary: join(dir, 'summary'),
  };
  writeFileSync(files.event, JSON.stringify(pullRequestEvent(options.event ?? 'opened', spec)));
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  const runtime = github.actionsRuntime({ repository, actor: 'octocat', sha: spec.headSha });
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: repository,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: files.event,
    GITHUB_SHA: spec.headSha,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    RUNNER_TEMP: dir,
    ACTIONS_ID_TOKEN_REQUEST_URL: runtime.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: runtime.requestToken,
    ...inputEnv({ 'service-url': options.serviceUrl, ...options.inputs }),
  };
  // Asynchronous: the service under test runs in this process and must keep answering.
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [ACTION_BUNDLE],
      { env, timeout: options.timeoutMs ?? 90_000 },
      (error, out) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout: out });
      },
    );
  });
  return {
    code,
    stdout,
    outputs: readOutputs(files.output),
    outputFile: readFileSync(files.output, 'utf8'),
    summary: readFileSync(files.summary, 'utf8'),
    runnerTemp: dir,
  };
}
