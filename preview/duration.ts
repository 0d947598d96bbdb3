/** Durations as the config file and the service settings write them (pure): `30m`, `72h`, `7d`, `1h30m`. */

const durationUnits: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const durationPattern = /^(\d+[smhdw])+$/;

/** Milliseconds of a duration like `30m`, `72h`, `7d` or `1h30m`; throws on anything else or on zero. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!durationPattern.test(trimmed)) {
    throw new Error(
      `"${text}" is not a duration (use a number and a unit, s m h d or w, like 30m, 72h or 7d)`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) {
    ms += Number(amount) * (durationUnits[unit ?? ''] ?? 0);
  }
  if (ms <= 0) throw new Error(`"${text}" is zero (use a duration longer than that, like 30m)`);
  return ms;
}
