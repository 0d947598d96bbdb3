import { describe, expect, it } from 'vitest';
import { hasBasicCredentials } from './basic-auth.ts';

const expected = { username: 'admin', password: 's3:cr3t' };
const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('hasBasicCredentials', () => {
  it.each([
    ['the right user and password', basic('admin:s3:cr3t'), true],
    ['the scheme in any case', basic('admin:s3:cr3t').replace('Basic', 'bAsIc'), true],
    ['no header', undefined, false],
    ['an empty header', '', false],
    ['a wrong password', basic('admin:s3:cr3'), false],
    ['a wrong user', basic('root:s3:cr3t'), false],
    ['the password alone', basic('s3:cr3t'), false],
    ['a bearer token', 'Bearer abc', false],
    ['not base64', 'Basic ***', false],
  ])('%s → %s', (_name, header, ok) => {
    expect(hasBasicCredentials(header, expected)).toBe(ok);
  });
});
