import { expiryFromDuration } from './duration';

describe(expiryFromDuration.name, () => {
  const from = new Date('2026-01-01T00:00:00Z');
  it.each([
    ['30s', '2026-01-01T00:00:30.000Z'],
    ['15m', '2026-01-01T00:15:00.000Z'],
    ['12h', '2026-01-01T12:00:00.000Z'],
    ['30d', '2026-01-31T00:00:00.000Z'],
    ['2w', '2026-01-15T00:00:00.000Z'],
    ['1mo', '2026-01-31T00:00:00.000Z'],
    ['1y', '2027-01-01T00:00:00.000Z'],
  ])('%s', (duration, expected) => {
    expect(expiryFromDuration(duration, from)?.toISOString()).toBe(expected);
  });

  it('null or absent means never', () => {
    expect(expiryFromDuration(null)).toBeNull();
    expect(expiryFromDuration(undefined)).toBeNull();
  });
});
