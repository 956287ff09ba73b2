import { addBudgetDuration, budgetDurationProblem, nextBudgetReset, parseBudgetDuration } from './budget-period';

const at = (iso: string) => new Date(iso);

describe('budget periods (LiteLLM budget_duration)', () => {
  it.each([
    ['30s', { count: 30, unit: 's' }],
    ['15m', { count: 15, unit: 'm' }],
    ['12h', { count: 12, unit: 'h' }],
    ['1d', { count: 1, unit: 'd' }],
    ['2w', { count: 2, unit: 'w' }],
    ['1mo', { count: 1, unit: 'mo' }],
  ])('reads %s', (text, expected) => {
    expect(parseBudgetDuration(text)).toEqual(expected);
  });

  it.each(['', '30', 'd', '1y', '1 d', '-1d', '1.5h', '30days', '1M'])('refuses %j', (text) => {
    expect(parseBudgetDuration(text)).toBeNull();
    expect(budgetDurationProblem(text)).toContain('budget_duration');
  });

  it('refuses months other than one, as LiteLLM’s reset time does', () => {
    expect(budgetDurationProblem('2mo')).toContain('1mo');
    expect(budgetDurationProblem('1mo')).toBeNull();
    expect(() => nextBudgetReset('3mo', at('2026-01-10T00:00:00Z'))).toThrow();
  });

  describe('standardized reset times (UTC)', () => {
    const wednesday = at('2026-03-11T13:47:29.500Z'); // a Wednesday

    it.each([
      ['1d', '2026-03-12T00:00:00.000Z'],
      ['7d', '2026-03-16T00:00:00.000Z'], // next Monday
      ['1w', '2026-03-16T00:00:00.000Z'],
      ['30d', '2026-04-01T00:00:00.000Z'],
      ['1mo', '2026-04-01T00:00:00.000Z'],
      ['3d', '2026-03-14T00:00:00.000Z'], // today's midnight + 3 days
      ['2w', '2026-03-25T00:00:00.000Z'],
      ['1h', '2026-03-11T14:00:00.000Z'],
      ['6h', '2026-03-11T18:00:00.000Z'],
      ['5h', '2026-03-11T15:00:00.000Z'], // multiples of 5 h since midnight: 0, 5, 10, 15, 20
      ['15m', '2026-03-11T14:00:00.000Z'],
      ['10m', '2026-03-11T13:50:00.000Z'],
      ['30s', '2026-03-11T13:47:30.000Z'],
      ['0d', '2026-03-11T13:47:29.500Z'],
    ])('%s → %s', (duration, expected) => {
      expect(nextBudgetReset(duration, wednesday).toISOString()).toBe(expected);
    });

    it('a boundary past the end of the day is the next midnight', () => {
      expect(nextBudgetReset('5h', at('2026-03-11T21:00:00Z')).toISOString()).toBe('2026-03-12T00:00:00.000Z');
      expect(nextBudgetReset('7m', at('2026-03-11T23:59:00Z')).toISOString()).toBe('2026-03-12T00:00:00.000Z');
    });

    it('exactly on a boundary moves to the next one', () => {
      expect(nextBudgetReset('1h', at('2026-03-11T14:00:00Z')).toISOString()).toBe('2026-03-11T15:00:00.000Z');
      expect(nextBudgetReset('1d', at('2026-03-11T00:00:00Z')).toISOString()).toBe('2026-03-12T00:00:00.000Z');
    });

    it('on a Monday the weekly reset is the next Monday; on a Sunday, the day after', () => {
      expect(nextBudgetReset('7d', at('2026-03-16T09:00:00Z')).toISOString()).toBe('2026-03-23T00:00:00.000Z');
      expect(nextBudgetReset('7d', at('2026-03-15T09:00:00Z')).toISOString()).toBe('2026-03-16T00:00:00.000Z');
    });

    it('the monthly reset crosses the year', () => {
      expect(nextBudgetReset('1mo', at('2026-12-31T23:00:00Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    });
  });

  it('adds calendar months clamped to the month’s last day', () => {
    expect(addBudgetDuration(at('2026-01-31T10:00:00Z'), { count: 1, unit: 'mo' }).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addBudgetDuration(at('2026-01-15T10:00:00Z'), { count: 2, unit: 'w' }).toISOString()).toBe('2026-01-29T10:00:00.000Z');
    expect(addBudgetDuration(at('2026-01-15T10:00:00Z'), { count: 90, unit: 's' }).toISOString()).toBe('2026-01-15T10:01:30.000Z');
  });
});
