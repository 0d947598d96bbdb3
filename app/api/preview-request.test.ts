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
    expect(problemOf(null).message).toMatch(/^invalid request: body must be a JSON object/);
  });
});
