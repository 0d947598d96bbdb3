import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.ts';
import { checkWorkflowEvent } from './workflow-run.ts';

const claims = (eventName?: string) => ({
  repository: 'acme/shop',
  tokenId: 'x',
  ...(eventName ? { eventName } : {}),
});

describe('checkWorkflowEvent', () => {
  it('lets a pull_request run ask', () => {
    expect(() => checkWorkflowEvent(claims('pull_request'))).not.toThrow();
  });

  it.each(['pull_request_target', 'issue_comment', 'workflow_run', 'push', undefined])(
    'refuses a %s run with 403 and says which event may',
    (event) => {
      let error: unknown;
      try {
        checkWorkflowEvent(claims(event));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(403);
      expect((error as ApiError).message).toContain(`a ${event ?? 'unnamed'} workflow run`);
      expect((error as ApiError).hint).toContain('on: pull_request');
    },
  );
});
