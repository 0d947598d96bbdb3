import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, MissingInputError, parseTimeout, parseVariables, readInputs } from './inputs.ts';

const inputs = (values: Record<string, string>) => (name: string) => values[name] ?? '';
const eventFile = (payload: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), 'event-')), 'event.json');
  writeFileSync(path, JSON.stringify(payload));
  return path;
};

describe('parseVariables', () => {
  it.each<[string, string, Record<string, string>]>([
    ['nothing', '', {}],
    ['one line', 'image=ghcr.io/acme/shop:abc', { image: 'ghcr.io/acme/shop:abc' }],
    [
      'lines with blank ones and spaces between',
      '\n  image = ghcr.io/acme/shop:abc  \r\n\n tier=small\n',
      { image: 'ghcr.io/acme/shop:abc', tier: 'small' },
    ],
    ['a value with = in it', 'dsn=postgres://db?sslmode=disable', { dsn: 'postgres://db?sslmode=disable' }],
    ['an empty value', 'tag=', { tag: '' }],
  ])('reads %s', (_name, text, expected) => {
    expect(parseVariables(text)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    ['a line without =', 'image', 'input variables is "image", but each line must be NAME=value'],
    ['a name with capitals', 'IMAGE=x', 'input variables is "IMAGE=x", but each line must be NAME=value'],
    ['no name', '=x', 'input variables is "=x", but each line must be NAME=value'],
    ['a name twice', 'a=1\na=2', 'input variables is "a=2", but a is set on an earlier line already'],
    ['a long bad line, cut', `${'X'.repeat(100)}=1`, `input variables is "${'X'.repeat(80)}…", but`],
  ])('refuses %s, naming the line', (_name, text, message) => {
    expect(() => parseVariables(text)).toThrow(InvalidInputError);
    expect(() => parseVariables(text)).toThrow(message);
  });

  it('is read with the other inputs', () => {
    expect(
      readInputs(inputs({ 'service-url': 'https://x', 'pull-request': '2', variables: 'image=a:1' }), {})
        .variables,
    ).toEqual({ image: 'a:1' });
  });
});

describe('readInputs', () => {
  it('defaults: up, wait, no kubeconfig, 10m, audience the service URL, the pull request of the event', () => {
    const env = { GITHUB_EVENT_PATH: eventFile({ action: 'opened', pull_request: { number: 12 } }) };
    expect(readInputs(inputs({ 'service-url': 'https://previews.example.com/' }), env)).toEqual({
      serviceUrl: 'https://previews.example.com',
      action: 'up',
      pullRequest: 12,
      wait: true,
      kubeconfig: false,
      timeoutMs: 600_000,
      audience: 'https://previews.example.com',
      variables: {},
    });
  });

  it('the default action follows the event: closed → down, anything else → up; a given one wins', () => {
    const url = { 'service-url': 'https://x' };
    const cases: [string, Record<string, string>, string][] = [
      ['closed', {}, 'down'],
      ['opened', {}, 'up'],
      ['synchronize', {}, 'up'],
      ['reopened', {}, 'up'],
      ['closed', { action: 'pause' }, 'pause'],
    ];
    for (const [event, given, expected] of cases) {
      const env = { GITHUB_EVENT_PATH: eventFile({ action: event, pull_request: { number: 3 } }) };
      expect(readInputs(inputs({ ...url, ...given }), env).action, event).toBe(expected);
    }
  });

  it('kubeconfig: true is refused for a run of a pull request from a fork, before anything is asked', () => {
    const url = { 'service-url': 'https://x', kubeconfig: 'true' };
    const pull = (head: { full_name: string } | null) => ({
      GITHUB_EVENT_PATH: eventFile({
        action: 'opened',
        pull_request: { number: 5, head: { repo: head }, base: { repo: { full_name: 'acme/shop' } } },
      }),
    });
    expect(readInputs(inputs(url), pull({ full_name: 'Acme/Shop' })).kubeconfig).toBe(true);
    expect(() => readInputs(inputs(url), pull({ full_name: 'stranger/shop' }))).toThrow(
      /input kubeconfig is "true", but this run was triggered by a pull request from the fork stranger\/shop, and a fork's code gets no credential/,
    );
    expect(() => readInputs(inputs(url), pull(null))).toThrow(/from a deleted fork/);
    // Without it, a fork's run still asks for its preview (the service's policy decides).
    expect(
      readInputs(inputs({ 'service-url': 'https://x' }), pull({ full_name: 'stranger/shop' })).kubeconfig,
    ).toBe(false);
    expect(() => readInputs(inputs({ ...url, kubeconfig: 'yes', 'pull-request': '1' }), {})).toThrow(
      /input kubeconfig is "yes", but it must be true or false/,
    );
  });

  it('takes every input as given, and a comment on a pull request as its event', () => {
    const env = { GITHUB_EVENT_PATH: eventFile({ issue: { number: 7, pull_request: { url: 'x' } } }) };
    expect(
      readInputs(
        inputs({
          'service-url': 'http://127.0.0.1:3000',
          action: 'reset',
          wait: 'False',
          timeout: '1h30m',
          audience: 'a',
        }),
        env,
      ),
    ).toMatchObject({ action: 'reset', pullRequest: 7, wait: false, timeoutMs: 5_400_000, audience: 'a' });
    expect(readInputs(inputs({ 'service-url': 'http://x', 'pull-request': '42' }), {}).pullRequest).toBe(42);
  });

  it('fails with the input named and what it takes', () => {
    const url = { 'service-url': 'https://x' };
    expect(() => readInputs(inputs({}), {})).toThrow(MissingInputError);
    expect(() => readInputs(inputs({ 'service-url': 'previews.example.com' }), {})).toThrow(
      /input service-url is "previews.example.com", but it must be an http\(s\) URL/,
    );
    expect(() => readInputs(inputs({ ...url, action: 'destroy', 'pull-request': '1' }), {})).toThrow(
      new InvalidInputError(
        'action',
        'destroy',
        'it must be one of up, down, reset, redeploy, pause, resume',
      ),
    );
    expect(() => readInputs(inputs({ ...url, 'pull-request': '#12' }), {})).toThrow(
      /input pull-request is "#12"/,
    );
    expect(() =>
      readInputs(inputs(url), { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventFile({ ref: 'x' }) }),
    ).toThrow(/input pull-request is required: this push event is not about a pull request/);
    expect(() => readInputs(inputs({ ...url, 'pull-request': '1', wait: 'yes' }), {})).toThrow(
      /input wait is "yes"/,
    );
  });
});

describe('parseTimeout', () => {
  it('reads durations and plain seconds', () => {
    expect(parseTimeout('10m')).toBe(600_000);
    expect(parseTimeout('90s')).toBe(90_000);
    expect(parseTimeout('45')).toBe(45_000);
    expect(parseTimeout('1h5m10s')).toBe(3_910_000);
    for (const bad of ['', 'ten', '10 minutes', '0s', '5d'])
      expect(() => parseTimeout(bad), bad).toThrow(InvalidInputError);
  });
});
