/**
 * LiteLLM's `budget_duration` (`30s`, `10m`, `24h`, `1d`, `7d`, `30d`, `1mo`) and the instant a budget period ends.
 * LiteLLM lines periods up with calendar boundaries in UTC (its `get_next_standardized_reset_time`) instead of
 * counting from the moment the budget was set: a `1d` budget ends at the next midnight, not 24 h after creation.
 */

export type BudgetUnit = 's' | 'm' | 'h' | 'd' | 'w' | 'mo';

export interface BudgetDuration {
  readonly count: number;
  readonly unit: BudgetUnit;
}

const DURATION_PATTERN = /^(\d+)(mo|[smhdw]?)$/;

/** `"30d"` → {count: 30, unit: 'd'}; a bare number is seconds. Null for no period (`""`, `none`, `null`) or for text LiteLLM would reject. */
export function parseBudgetDuration(text: string | null | undefined): BudgetDuration | null {
  if (text === null || text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none' || trimmed.toLowerCase() === 'null') return null;
  const match = DURATION_PATTERN.exec(trimmed);
  if (!match) return null;
  return { count: Number(match[1]), unit: (match[2] || 's') as BudgetUnit };
}

const DAY_MS = 86_400_000;

function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The first boundary after `from` that is a multiple of `stepMs` within a span starting at `spanStart`, capped at the span's end. */
function nextStep(from: number, spanStart: number, spanMs: number, stepMs: number): number {
  const next = spanStart + (Math.floor((from - spanStart) / stepMs) + 1) * stepMs;
  return Math.min(next, spanStart + spanMs);
}

/**
 * When a period of `duration` that is running at `from` ends (UTC), as LiteLLM standardises it:
 * `1d` the next midnight · `7d` / `1w` the next Monday 00:00 · `30d` / `1mo` the 1st of next month · other `Nd` today's
 * midnight + N days · `Nh` the next multiple of N hours in the day · `Nm` of N minutes in the hour · `Ns` of N
 * seconds in the minute · `Nmo` the 1st of the month N months ahead. A zero count ends the period at `from`.
 * Throws on text `parseBudgetDuration` does not accept (callers validate it first).
 */
export function nextBudgetReset(duration: string, from: Date): Date {
  const parsed = parseBudgetDuration(duration);
  if (parsed === null) throw new Error(`not a budget duration: ${duration}`);
  const { count, unit } = parsed;
  const now = from.getTime();
  if (count === 0) return new Date(now);
  const midnight = startOfUtcDay(now);
  switch (unit) {
    case 's': {
      const minute = Math.floor(now / 60_000) * 60_000;
      return new Date(nextStep(now, minute, 60_000, count * 1000));
    }
    case 'm': {
      const hour = Math.floor(now / 3_600_000) * 3_600_000;
      return new Date(nextStep(now, hour, 3_600_000, count * 60_000));
    }
    case 'h':
      return new Date(nextStep(now, midnight, DAY_MS, count * 3_600_000));
    case 'w':
    case 'd': {
      const days = unit === 'w' ? count * 7 : count;
      if (days === 1) return new Date(midnight + DAY_MS);
      if (days === 7) {
        // getUTCDay: 0 is Sunday; Monday is 1.
        const daysToMonday = ((8 - new Date(midnight).getUTCDay()) % 7) || 7;
        return new Date(midnight + daysToMonday * DAY_MS);
      }
      if (days === 30) return firstOfMonth(from, 1);
      return new Date(midnight + days * DAY_MS);
    }
    case 'mo':
      return firstOfMonth(from, count);
  }
}

function firstOfMonth(from: Date, monthsAhead: number): Date {
  return new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + monthsAhead, 1));
}
