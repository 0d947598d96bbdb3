/**
 * A host create refused by the host namespace's ResourceQuota, said for the user of the virtual
 * cluster: which limit is used up, and that the object waits rather than failed. Pure.
 */

/** Event reason on a virtual object that the host's quota kept off the host. */
export const HOST_QUOTA_EXCEEDED_REASON = 'HostQuotaExceeded';

/** `name=value` pairs of one part of the API server's quota message (`limited: count/pods=20,...`). */
function pairs(message: string, part: 'requested' | 'used' | 'limited'): Map<string, string> {
  const found = new Map<string, string>();
  const match = new RegExp(`${part}: ([^ ]+?)(?:, (?:requested|used|limited):|$)`).exec(message);
  for (const pair of (match?.[1] ?? '').split(',')) {
    const [name, value] = pair.split('=');
    if (name && value !== undefined) found.set(name, value);
  }
  return found;
}

/**
 * The user's message for an API server message such as `pods "x" is forbidden: exceeded quota:
 * vc-pr-1, requested: count/pods=1, used: count/pods=20, limited: count/pods=20`; undefined for any
 * other message.
 */
export function hostQuotaMessage(apiMessage: string, kind: string): string | undefined {
  if (!apiMessage.includes('exceeded quota:')) return undefined;
  const requested = pairs(apiMessage, 'requested');
  const used = pairs(apiMessage, 'used');
  const limited = pairs(apiMessage, 'limited');
  const full = [...requested.keys()].filter((name) => limited.has(name));
  const limits = (full.length > 0 ? full : [...limited.keys()]).map(
    (name) => `${name} ${used.get(name) ?? '?'} of ${limited.get(name)}`,
  );
  return (
    `the preview's host quota is used up (${limits.join(', ') || 'a limit'}): this ${kind} is not ` +
    'created on the host until the preview deletes some of its objects; the operator sets the quota'
  );
}
