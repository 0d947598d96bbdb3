import { readFileSync } from 'node:fs';

/**
 * The Action's inputs, read and checked here and nowhere else. A wrong input fails the step before
 * anything is asked of the service, with the input's name and what it takes.
 */

export const ACTIONS = ['up', 'down', 'reset', 'redeploy', 'pause', 'resume'] as const;
export type PreviewAction = (typeof ACTIONS)[number];

export interface Inputs {
  /** The service's base URL, without a trailing slash. */
  serviceUrl: string;
  action: PreviewAction;
  pullRequest: number;
  wait: boolean;
  /** Write the virtual cluster's kubeconfig to a file once the preview is ready. */
  kubeconfig: boolean;
  timeoutMs: number;
  audience: string;
  /** Values for the repo config's `${{ variables.NAME }}`, from `NAME=value` lines; empty when none. */
  variables: Record<string, string>;
}

/** An input the step cannot run with. */
export class InputError extends Error {
  override name = 'InputError';
}

/** A required input that was not given and has no default. */
export class MissingInputError extends InputError {
  override name = 'MissingInputError';
  constructor(
    readonly input: string,
    why: string,
  ) {
    super(`input ${input} is required: ${why}`);
  }
}

/** An input given a value it does not take. */
export class InvalidInputError extends InputError {
  override name = 'InvalidInputError';
  constructor(
    readonly input: string,
    readonly value: string,
    expected: string,
  ) {
    super(`input ${input} is ${JSON.stringify(value)}, but ${expected}`);
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `10m`, `90s`, `1h30m`, `45` (seconds) → milliseconds. */
export function parseTimeout(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) {
    throw new InvalidInputError('timeout', text, 'it must be a duration like 10m, 90s or 1h30m');
  }
  const total = parts.reduce((sum, part) => sum + Number(part[1]) * (UNITS[part[2]!] ?? 0), 0);
  if (total <= 0) throw new InvalidInputError('timeout', text, 'it must be longer than zero');
  return total;
}

/** The service's rule for names (preview/variables.ts; the Action imports nothing of the service). */
const VARIABLE_NAME = /^[a-z][a-z0-9_]*$/;
const SHOWN = 80;

/**
 * `variables:`, one `NAME=value` per line (blank lines ignored), as an object. The value is the
 * rest of the line after the first `=`, spaces around it trimmed. A line that is not `NAME=value`,
 * or a name given twice, is an input error; the values' limits are the service's to say.
 */
export function parseVariables(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const shown = line.length > SHOWN ? `${line.slice(0, SHOWN)}…` : line;
    const at = line.indexOf('=');
    const name = at < 0 ? '' : line.slice(0, at).trim();
    if (!VARIABLE_NAME.test(name)) {
      throw new InvalidInputError(
        'variables',
        shown,
        `each line must be NAME=value with a lowercase name the repository's .github/vcluster-preview.yml declares under variables:, like image=ghcr.io/acme/shop:abc123`,
      );
    }
    if (Object.hasOwn(variables, name))
      throw new InvalidInputError('variables', shown, `${name} is set on an earlier line already`);
    variables[name] = line.slice(at + 1).trim();
  }
  return variables;
}

export type GetInput = (name: string) => string;

/** What the Action reads of the event that started the workflow (GITHUB_EVENT_PATH). */
export interface EventFacts {
  /** The pull request of a `pull_request*` event, or of a comment on one. */
  pullRequest?: number;
  /** The event's `action`: `opened`, `synchronize`, `closed`, … */
  action?: string;
  /** Where the head branch lives when it is not the base repository: `the fork owner/name`, or `a deleted fork`. */
  fork?: string;
}

interface EventPayload {
  action?: unknown;
  pull_request?: {
    number?: unknown;
    head?: { repo?: { full_name?: unknown } | null };
    base?: { repo?: { full_name?: unknown } };
  };
  issue?: { number?: unknown; pull_request?: unknown };
}

export function readEvent(eventPath: string | undefined): EventFacts {
  if (!eventPath) return {};
  let payload: EventPayload;
  try {
    payload = JSON.parse(readFileSync(eventPath, 'utf8'));
  } catch {
    return {};
  }
  const pull = payload.pull_request;
  const number = pull?.number ?? (payload.issue?.pull_request ? payload.issue.number : undefined);
  const base = pull?.base?.repo?.full_name;
  const head = pull?.head?.repo === null ? null : pull?.head?.repo?.full_name;
  let fork: string | undefined;
  if (typeof base === 'string') {
    // A deleted fork leaves head.repo null: still not the base repository.
    if (head === null) fork = 'a deleted fork';
    else if (typeof head === 'string' && head.toLowerCase() !== base.toLowerCase()) fork = `the fork ${head}`;
  }
  return {
    ...(typeof number === 'number' && Number.isInteger(number) && number > 0 ? { pullRequest: number } : {}),
    ...(typeof payload.action === 'string' ? { action: payload.action } : {}),
    ...(fork ? { fork } : {}),
  };
}

const bool = (getInput: GetInput, input: string, fallback: 'true' | 'false'): boolean => {
  const text = (getInput(input).trim() || fallback).toLowerCase();
  if (!['true', 'false'].includes(text)) throw new InvalidInputError(input, text, 'it must be true or false');
  return text === 'true';
};

export function readInputs(getInput: GetInput, env: Record<string, string | undefined>): Inputs {
  const serviceText = getInput('service-url').trim();
  if (!serviceText) {
    throw new MissingInputError(
      'service-url',
      'the base URL of the vcluster-preview service, like https://previews.example.com',
    );
  }
  let serviceUrl: URL;
  try {
    serviceUrl = new URL(serviceText);
  } catch {
    throw new InvalidInputError(
      'service-url',
      serviceText,
      'it must be an http(s) URL, like https://previews.example.com',
    );
  }
  if (serviceUrl.protocol !== 'https:' && serviceUrl.protocol !== 'http:') {
    throw new InvalidInputError(
      'service-url',
      serviceText,
      'it must be an http(s) URL, like https://previews.example.com',
    );
  }

  const event = readEvent(env.GITHUB_EVENT_PATH);
  // Unset, the action follows the event: a closed pull request's preview goes, any other comes up.
  const actionText = getInput('action').trim() || (event.action === 'closed' ? 'down' : 'up');
  if (!(ACTIONS as readonly string[]).includes(actionText)) {
    throw new InvalidInputError('action', actionText, `it must be one of ${ACTIONS.join(', ')}`);
  }

  const prText = getInput('pull-request').trim();
  let pullRequest: number | undefined;
  if (prText) {
    if (!/^[1-9]\d*$/.test(prText)) {
      throw new InvalidInputError('pull-request', prText, 'it must be a pull request number, like 12');
    }
    pullRequest = Number(prText);
  } else {
    pullRequest = event.pullRequest;
  }
  if (pullRequest === undefined) {
    throw new MissingInputError(
      'pull-request',
      `this ${env.GITHUB_EVENT_NAME ?? 'workflow'} event is not about a pull request; pass pull-request: <number>`,
    );
  }

  const wait = bool(getInput, 'wait', 'true');
  const kubeconfig = bool(getInput, 'kubeconfig', 'false');
  if (kubeconfig && event.fork) {
    throw new InvalidInputError(
      'kubeconfig',
      'true',
      `this run was triggered by a pull request from ${event.fork}, and a fork's code gets no credential of the preview; leave kubeconfig out for forks (e.g. \`kubeconfig: \${{ github.event.pull_request.head.repo.full_name == github.repository }}\`)`,
    );
  }

  const serviceHref = serviceUrl.href.replace(/\/+$/, '');
  // The service's own URL unless told otherwise: a token asked for one service is refused by another.
  const audience = getInput('audience').trim() || serviceHref;
  return {
    serviceUrl: serviceHref,
    action: actionText as PreviewAction,
    pullRequest,
    wait,
    kubeconfig,
    timeoutMs: parseTimeout(getInput('timeout') || '10m'),
    audience,
    variables: parseVariables(getInput('variables')),
  };
}
