import { createHash, timingSafeEqual } from 'node:crypto';

/** The status page's login (`STATUS_PAGE_AUTH=user:password`). */
export interface BasicCredentials {
  username: string;
  password: string;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether an `Authorization: Basic …` header carries exactly these credentials. Compared as
 * digests in constant time, so neither the length nor the first differing character shows.
 */
export function hasBasicCredentials(header: string | undefined, expected: BasicCredentials): boolean {
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1], 'base64').toString('utf8');
  return timingSafeEqual(digest(given), digest(`${expected.username}:${expected.password}`));
}
