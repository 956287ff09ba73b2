/**
 * LiteLLM's budget periods (`budget_duration`): `30s`, `15m`, `12h`, `1d`, `2w`, `1mo`. A budget's spend goes back
 * to 0 at `budget_reset_at`; the reset instant is LiteLLM's "standardized" one (UTC): a whole day, hour or minute
 * boundary rather than now + duration, so every key with `1d` resets at the same midnight.
 */
export type BudgetUnit = 's' | 'm' | 'h' | 'd' | 'w' | 'mo';

export interface BudgetDuration {
  readonly count: number;
  readonly unit: BudgetUnit;
}

const GRAMMAR = /^(\d{1,6})(mo|[smhdw])$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The duration `text` names, or null when it does not follow `(\d+)(mo|[smhdw])`. */
export function parseBudgetDuration(text: string): BudgetDuration | null {
  const match = GRAMMAR.exec(text);
  if (!match) return null;
  return { count: Number(match[1]), unit: match[2] as BudgetUnit };
}

/** Why `text` cannot be a budget period (for a 400 naming the field), or null when it can. */
export function budgetDurationProblem(text: string, field = 'budget_duration'): string | null {
  const parsed = parseBudgetDuration(text);
  if (parsed === null) return `${field} must look like "30s", "15m", "12h", "1d", "2w" or "1mo" (LiteLLM's (\\d+)(mo|[smhdw]))`;
  // LiteLLM's reset-time function refuses months other than one.
  if (parsed.unit === 'mo' && parsed.count !== 1) return `${field}: only "1mo" is a monthly period (the budget resets on the 1st of each month)`;
  return null;
}

/** The instant `count` calendar months after `from` (same day of month, clamped to the month's last day), UTC. */
function addMonths(from: Date, count: number): Date {
  const year = from.getUTCFullYear();
  const month = from.getUTCMonth() + count;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(year, month, Math.min(from.getUTCDate(), lastDay), from.getUTCHours(), from.getUTCMinutes(), from.getUTCSeconds(), from.getUTCMilliseconds()),
  );
}

/** `duration` after `from`, exactly (LiteLLM's `duration_in_seconds`; months are calendar months). */
export function addBudgetDuration(from: Date, duration: BudgetDuration): Date {
  const { count, unit } = duration;
  switch (unit) {
    case 's':
      return new Date(from.getTime() + count * SECOND);
    case 'm':
      return new Date(from.getTime() + count * MINUTE);
    case 'h':
      return new Date(from.getTime() + count * HOUR);
    case 'd':
      return new Date(from.getTime() + count * DAY);
    case 'w':
      return new Date(from.getTime() + count * 7 * DAY);
    case 'mo':
      return addMonths(from, count);
  }
}

function startOfUtcDay(at: Date): number {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
}

function firstOfNextMonth(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

/** The next multiple of `step` ms since the day's midnight, after `now`; the next midnight when none is left today. */
function nextBoundaryInDay(now: Date, step: number): Date {
  const midnight = startOfUtcDay(now);
  const sinceMidnight = now.getTime() - midnight;
  const next = (Math.floor(sinceMidnight / step) + 1) * step;
  return new Date(next >= DAY ? midnight + DAY : midnight + next);
}

/**
 * When a budget with this period next resets, seen at `now` (LiteLLM's `get_next_standardized_reset_time`, UTC):
 * `1d` the next midnight, `7d` (or `1w`) the next Monday 00:00, `30d` and `1mo` the 1st of the next month, any other
 * `Nd` today's midnight + N days; `Nh`, `Nm`, `Ns` the next multiple of N hours, minutes or seconds since midnight.
 * A count of 0 means now.
 */
export function nextBudgetReset(duration: BudgetDuration | string, now: Date): Date {
  const parsed = typeof duration === 'string' ? parseBudgetDuration(duration) : duration;
  if (parsed === null) throw new Error(`not a budget duration: ${JSON.stringify(duration)}`);
  const { count, unit } = parsed;
  if (count === 0) return new Date(now.getTime());
  switch (unit) {
    case 's':
      return nextBoundaryInDay(now, count * SECOND);
    case 'm':
      return nextBoundaryInDay(now, count * MINUTE);
    case 'h':
      return nextBoundaryInDay(now, count * HOUR);
    case 'mo':
      if (count !== 1) throw new Error(`only 1mo is a monthly budget period, not ${count}mo`);
      return firstOfNextMonth(now);
    case 'w':
    case 'd': {
      const days = unit === 'w' ? count * 7 : count;
      if (days === 1) return new Date(startOfUtcDay(now) + DAY);
      if (days === 7) {
        // getUTCDay: Sunday 0 … Saturday 6; Monday is 1. Today a Monday: the next one, a week ahead.
        const untilMonday = (8 - now.getUTCDay()) % 7 || 7;
        return new Date(startOfUtcDay(now) + untilMonday * DAY);
      }
      if (days === 30) return firstOfNextMonth(now);
      return new Date(startOfUtcDay(now) + days * DAY);
    }
  }
}
