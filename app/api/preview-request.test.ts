import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.ts';
import { parsePreviewRequest } from './preview-request.ts';

const problemOf = (body: unknown): ApiError => {
  try {
    parsePreviewRequest(body);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the body to be refused');
};

describe('parsePreviewRequest', () => {
  it('reads a pull request, an action (up by default) and an optional full sha', () => {
    expect(parsePreviewRequest({ pullRequest: 12 })).toEqual({ pullRequest: 12, action: 'up' });
    expect(
      parsePreviewRequest({
        pullRequest: 3,
        action: 'reset',
        sha: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01',
      }),
    ).toEqual({ pullRequest: 3, action: 'reset', sha: 'abcdef0123456789abcdef0123456789abcdef01' });
    for (const action of ['up', 'down', 'reset', 'redeploy', 'pause', 'resume']) {
      expect(parsePreviewRequest({ pullRequest: 1, action }).action).toBe(action);
    }
  });

  it('answers 400 naming every field that is wrong, with an example body as the hint', () => {
    const error = problemOf({ pullRequest: '12', action: 'destroy', sha: 'abc123' });
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'invalid request: pullRequest must be the pull request number, like 12; ' +
        'action must be one of up, down, reset, redeploy, pause, resume; ' +
        'sha must be a full commit id (40 hexadecimal characters)',
    );
    expect(error.hint).toMatch(/^send JSON like \{"pullRequest": 12/);
  });

  it('says what is missing, what is not a number it can use, and which fields it does not know', () => {
    expect(problemOf({}).message).toBe(
      'invalid request: pullRequest is required: the pull request number, like 12',
    );
    expect(problemOf({ pullRequest: 0 }).message).toMatch(
      /pullRequest must be a positive pull request number/,
    );
    expect(problemOf({ pullRequest: 1.5 }).message).toMatch(/pullRequest must be a whole number/);
    expect(problemOf({ pullRequest: 1, repository: 'other/repo' }).message).toBe(
      'invalid request: unknown field repository',
    );
    expect(problemOf([1]).message).toMatch(/^invalid request: body must be a JSON object/);
    expect(problemOf({ pullRequest: 1, variable: {} }).message).toBe(
      'invalid request: unknown field variable',
    );
    expect(problemOf(null).message).toMatch(/^invalid request: body must be a JSON object/);
  });

  it('reads the values a workflow set for the config’s variables', () => {
    expect(
      parsePreviewRequest({ pullRequest: 4, variables: { image: 'ghcr.io/acme/shop:abc', log_level: '' } }),
    ).toEqual({
      pullRequest: 4,
      action: 'up',
      variables: { image: 'ghcr.io/acme/shop:abc', log_level: '' },
    });
  });

  it.each<[string, unknown, string]>([
    [
      'a name with capitals',
      { Image: 'x' },
      'variables.Image is not a variable name (lowercase letters, digits and _, starting with a letter)',
    ],
    [
      'a name with a dot',
      { 'a.b': 'x' },
      'variables.a.b is not a variable name (lowercase letters, digits and _, starting with a letter)',
    ],
    [
      'a long name, quoted in part',
      { [`a${'b'.repeat(200)}`]: 'x' },
      `variables.a${'b'.repeat(63)} is longer than 64 characters`,
    ],
    [
      'a value on two lines',
      { image: 'a\nb' },
      'variables.image has a line break or another control character',
    ],
    [
      'a value with a control character',
      { image: 'a\u0000' },
      'variables.image has a line break or another control character',
    ],
    ['a value too long', { image: 'x'.repeat(1025) }, 'variables.image is longer than 1024 characters'],
    ['a value that is not a string', { replicas: 2 }, 'variables.replicas must be a string'],
    [
      'a list',
      ['image=x'],
      'variables must be a mapping of names to values, like {"image": "ghcr.io/acme/shop:abc123"}',
    ],
    [
      'more than 20 names',
      Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`v${i}`, 'x'])),
      'variables has more than 20 names',
    ],
  ])('refuses variables with %s', (_name, variables, message) => {
    const error = problemOf({ pullRequest: 1, variables });
    expect(error.status).toBe(400);
    expect(error.message).toBe(`invalid request: ${message}`);
  });
});
