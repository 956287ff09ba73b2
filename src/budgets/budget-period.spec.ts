import { nextBudgetReset, parseBudgetDuration } from './budget-period';

const at = (iso: string) => new Date(iso);
const next = (duration: string, from: string) => nextBudgetReset(duration, at(from)).toISOString();

describe('parseBudgetDuration', () => {
  it.each([
    ['30s', { count: 30, unit: 's' }],
    ['10m', { count: 10, unit: 'm' }],
    ['24h', { count: 24, unit: 'h' }],
    ['30d', { count: 30, unit: 'd' }],
    ['2w', { count: 2, unit: 'w' }],
    ['1mo', { count: 1, unit: 'mo' }],
    ['45', { count: 45, unit: 's' }],
  ])('%s', (text, expected) => expect(parseBudgetDuration(text)).toEqual(expected));

  it.each(['', 'none', 'NULL', null, undefined, '1y', 'd', '-1d', '1.5h'])('%p means no period', (text) => expect(parseBudgetDuration(text)).toBeNull());
});

describe('nextBudgetReset (UTC calendar boundaries, as LiteLLM standardises them)', () => {
  it.each([
    ['1d', '2025-03-05T13:20:00Z', '2025-03-06T00:00:00.000Z'],
    ['7d', '2025-03-05T13:20:00Z', '2025-03-10T00:00:00.000Z'], // Wednesday → next Monday
    ['7d', '2025-03-10T00:00:00Z', '2025-03-17T00:00:00.000Z'], // on Monday midnight → the Monday after
    ['1w', '2025-03-09T23:59:00Z', '2025-03-10T00:00:00.000Z'], // Sunday
    ['30d', '2025-03-05T13:20:00Z', '2025-04-01T00:00:00.000Z'],
    ['1mo', '2025-12-31T23:00:00Z', '2026-01-01T00:00:00.000Z'],
    ['3d', '2025-03-05T13:20:00Z', '2025-03-08T00:00:00.000Z'],
    ['4h', '2025-03-05T13:20:00Z', '2025-03-05T16:00:00.000Z'],
    ['5h', '2025-03-05T22:00:00Z', '2025-03-06T00:00:00.000Z'], // capped at midnight
    ['15m', '2025-03-05T13:20:00Z', '2025-03-05T13:30:00.000Z'],
    ['45m', '2025-03-05T13:50:00Z', '2025-03-05T14:00:00.000Z'],
    ['30s', '2025-03-05T13:20:10Z', '2025-03-05T13:20:30.000Z'],
    ['0d', '2025-03-05T13:20:10Z', '2025-03-05T13:20:10.000Z'],
  ])('%s from %s → %s', (duration, from, expected) => expect(next(duration, from)).toBe(expected));

  it('always moves forward', () => {
    for (const duration of ['1s', '7s', '1m', '1h', '1d', '7d', '30d', '1mo']) {
      const from = at('2025-03-05T13:20:00Z');
      expect(nextBudgetReset(duration, from).getTime()).toBeGreaterThan(from.getTime());
    }
  });

  it('refuses text that is no duration', () => expect(() => nextBudgetReset('soon', new Date())).toThrow('not a budget duration'));
});
