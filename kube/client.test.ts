import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiErrorMessage, ignoreNotFound, isAlreadyExists, isConflict } from './client.ts';

describe('apiErrorMessage', () => {
  const status = {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message: 'pods "web-1" is forbidden: exceeded quota: vc-demo',
    reason: 'Forbidden',
    code: 403,
  };

  it.each([
    [
      "client-node's ApiException: the Status message, not the whole response",
      new ApiException(403, 'Unknown API Status Code!', JSON.stringify(status), { 'audit-id': 'x' }),
      'pods "web-1" is forbidden: exceeded quota: vc-demo',
    ],
    ['a body already parsed', Object.assign(new Error('HTTP 409'), { body: status }), status.message],
    ['a body that is not JSON', Object.assign(new Error('bad gateway'), { body: '<html>' }), 'bad gateway'],
    [
      'a Status without a message',
      Object.assign(new Error('HTTP 500'), { body: '{"kind":"Status"}' }),
      'HTTP 500',
    ],
    ['a plain error', new Error('socket hang up'), 'socket hang up'],
    ['not an error at all', 'timeout', 'timeout'],
    ['nothing', undefined, 'undefined'],
  ])('%s', (_what, error, expected) => {
    expect(apiErrorMessage(error)).toBe(expected);
  });
});

describe('ignoreNotFound', () => {
  it('turns a 404 into undefined', async () => {
    const gone = Promise.reject(new ApiException(404, 'Not Found', '{}', {}));
    expect(await gone.catch(ignoreNotFound)).toBeUndefined();
  });
  it.each([
    ['a conflict', new ApiException(409, 'Conflict', '{}', {})],
    ['a plain error', new Error('socket hang up')],
  ])('throws %s on', (_what, error) => {
    expect(() => ignoreNotFound(error)).toThrow(error);
  });
});

describe('isAlreadyExists and isConflict', () => {
  const status409 = (reason?: string) =>
    Object.assign(new Error('HTTP-Code: 409'), {
      code: 409,
      ...(reason ? { body: JSON.stringify({ kind: 'Status', code: 409, reason }) } : {}),
    });
  it.each([
    ['a create of what exists', status409('AlreadyExists'), true, false],
    ['a failed precondition or a stale version', status409('Conflict'), false, true],
    ['a 409 without a Status body (either)', status409(), true, true],
    [
      'a raw request of kube/apply.ts, with the Status as an object',
      { statusCode: 409, body: { reason: 'Conflict' } },
      false,
      true,
    ],
    ['a 404', Object.assign(new Error('nope'), { code: 404 }), false, false],
  ])('%s', (_what, error, alreadyExists, conflict) => {
    expect(isAlreadyExists(error)).toBe(alreadyExists);
    expect(isConflict(error)).toBe(conflict);
  });
});
