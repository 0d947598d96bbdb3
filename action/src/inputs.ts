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
  timeoutMs: number;
  audience: string;
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

/** The pull request of the event that started the workflow: `pull_request*`, or a comment on one. */
export function pullRequestOfEvent(eventPath: string | undefined): number | undefined {
  if (!eventPath) return undefined;
  let payload: { pull_request?: { number?: unknown }; issue?: { number?: unknown; pull_request?: unknown } };
  try {
    payload = JSON.parse(readFileSync(eventPath, 'utf8'));
  } catch {
    return undefined;
  }
  const number =
    payload.pull_request?.number ?? (payload.issue?.pull_request ? payload.issue.number : undefined);
  return typeof number === 'number' && Number.isInteger(number) && number > 0 ? number : undefined;
}

export type GetInput = (name: string) => string;

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

  const actionText = getInput('action').trim() || 'up';
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
    pullRequest = pullRequestOfEvent(env.GITHUB_EVENT_PATH);
  }
  if (pullRequest === undefined) {
    throw new MissingInputError(
      'pull-request',
      `this ${env.GITHUB_EVENT_NAME ?? 'workflow'} event is not about a pull request; pass pull-request: <number>`,
    );
  }

  const waitText = (getInput('wait').trim() || 'true').toLowerCase();
  if (!['true', 'false'].includes(waitText)) {
    throw new InvalidInputError('wait', waitText, 'it must be true or false');
  }

  const audience = getInput('audience').trim() || 'vcluster-preview';
  return {
    serviceUrl: serviceUrl.href.replace(/\/+$/, ''),
    action: actionText as PreviewAction,
    pullRequest,
    wait: waitText === 'true',
    timeoutMs: parseTimeout(getInput('timeout') || '10m'),
    audience,
  };
}
