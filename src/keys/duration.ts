const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  mo: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

/** `"30d"` → the instant 30 days after `from`; null/undefined → never expires. Input is validated by the DTO. */
export function expiryFromDuration(duration: string | null | undefined, from = new Date()): Date | null {
  if (duration === null || duration === undefined) return null;
  const match = /^(\d+)(mo|s|m|h|d|w|y)$/.exec(duration);
  if (!match) throw new Error(`invalid duration ${duration}`);
  return new Date(from.getTime() + Number(match[1]) * UNIT_MS[match[2]]);
}
