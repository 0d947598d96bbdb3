/**
 * Structural equality for Kubernetes objects as the client returns them: a property holding
 * `undefined` counts as absent (the API server omits empty fields), Dates compare by instant,
 * arrays compare in order.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) {
    if (!deepEqual(ra[key], rb[key])) return false;
  }
  return true;
}

/** A JSON merge patch (RFC 7386) of a string map: `null` removes a key. */
export type MapPatch = Record<string, string | null>;

/** The merge patch turning `current` into `desired`, or undefined when they are equal. */
export function mapPatch(
  current: Record<string, string> | undefined,
  desired: Record<string, string> | undefined,
): MapPatch | undefined {
  const patch: MapPatch = {};
  const cur = current ?? {};
  const want = desired ?? {};
  for (const [key, value] of Object.entries(want)) {
    if (cur[key] !== value) patch[key] = value;
  }
  for (const key of Object.keys(cur)) {
    if (!(key in want)) patch[key] = null;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Fields of T that a merge patch may set, or remove with `null`. */
export type Nullable<T> = { [K in keyof T]?: T[K] | null };
