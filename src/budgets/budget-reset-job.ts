import { nextBudgetReset, parseBudgetDuration } from './budget-period';
import type { ModelMaxBudget } from './usage-limits';
import { returnedRows, type QueryRunnerFn } from './spend-ledger';

export type BudgetedKind = 'key' | 'team' | 'user';

const TABLES: Record<BudgetedKind, { table: string; id: string }> = {
  key: { table: 'virtual_keys', id: 'token' },
  team: { table: 'teams', id: 'team_id' },
  user: { table: 'users', id: 'user_id' },
};

/** A row whose spend the job changed, as it is now. */
export interface ResetRow {
  readonly kind: BudgetedKind;
  readonly id: string;
  readonly spend: number;
  readonly modelSpend: Record<string, number>;
  readonly budgetResetAt: Date | null;
}

/** When the period running at `now` ends; null for no period, or one LiteLLM cannot reset (`2mo`): no more resets. */
function periodEnd(duration: unknown, now: Date): Date | null {
  const parsed = typeof duration === 'string' ? parseBudgetDuration(duration) : null;
  if (parsed === null) return null;
  try {
    return nextBudgetReset(parsed, now);
  } catch {
    return null;
  }
}

/**
 * Ends the budget periods that are over at `now`: spend and model_spend back to zero, budget_reset_at moved to the
 * end of the period now running. The new instants are computed here (LiteLLM's calendar boundaries), then written
 * with a guard on the old value, so when several instances run the job at once each row is reset exactly once.
 */
export async function resetDueBudgets(query: QueryRunnerFn, now: Date): Promise<ResetRow[]> {
  const reset: ResetRow[] = [];
  for (const kind of Object.keys(TABLES) as BudgetedKind[]) {
    const { table, id } = TABLES[kind];
    const due = await returnedRows<{ id: string; budget_duration: string | null; budget_reset_at: Date }>(
      query(`SELECT ${id} AS id, budget_duration, budget_reset_at FROM ${table} WHERE budget_reset_at <= $1`, [now]),
    );
    if (due.length === 0) continue;
    const rows = await returnedRows<{ id: string; spend: number; model_spend: Record<string, number>; budget_reset_at: Date | null }>(
      query(
        `UPDATE ${table} AS t SET spend = 0, model_spend = '{}', budget_reset_at = v.next
         FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS v(id, previous, next)
         WHERE t.${id} = v.id AND t.budget_reset_at = v.previous
         RETURNING t.${id} AS id, t.spend, t.model_spend, t.budget_reset_at`,
        [due.map((row) => row.id), due.map((row) => row.budget_reset_at), due.map((row) => periodEnd(row.budget_duration, now))],
      ),
    );
    for (const row of rows) reset.push({ kind, id: row.id, spend: row.spend, modelSpend: row.model_spend, budgetResetAt: row.budget_reset_at });
  }
  return reset;
}

/**
 * `model_max_budget` entries with a `time_period` each run on their own clock, kept in `model_budget_reset_at`:
 * a period starts when the job first sees the entry and ends on LiteLLM's calendar boundary for its duration; when it
 * ends, only that model's entry of `model_spend` is cleared. Rows are written with a guard on the instants read, so
 * concurrent jobs on several instances clear each period once.
 */
export async function resetDueModelBudgets(query: QueryRunnerFn, now: Date): Promise<ResetRow[]> {
  const reset: ResetRow[] = [];
  for (const kind of Object.keys(TABLES) as BudgetedKind[]) {
    const { table, id } = TABLES[kind];
    const candidates = await returnedRows<{ id: string; model_max_budget: ModelMaxBudget; model_budget_reset_at: Record<string, string> }>(
      query(
        `SELECT ${id} AS id, model_max_budget, model_budget_reset_at FROM ${table}
         WHERE model_max_budget <> '{}'::jsonb OR model_budget_reset_at <> '{}'::jsonb`,
        [],
      ),
    );
    const changes: { id: string; previous: string; next: string; cleared: string[] }[] = [];
    for (const row of candidates) {
      const previous = row.model_budget_reset_at ?? {};
      const next: Record<string, string> = {};
      const cleared: string[] = [];
      for (const [model, budget] of Object.entries(row.model_max_budget ?? {})) {
        const entry = budget as { time_period?: unknown; budget_duration?: unknown } | null;
        const periodEndsAt = periodEnd(entry?.time_period ?? entry?.budget_duration, now);
        if (periodEndsAt === null) continue;
        const endsAt = previous[model];
        if (endsAt !== undefined && Date.parse(endsAt) > now.getTime()) {
          next[model] = endsAt;
          continue;
        }
        // A period that is over clears the model's spend; a new entry only starts its first period.
        if (endsAt !== undefined) cleared.push(model);
        next[model] = periodEndsAt.toISOString();
      }
      if (cleared.length > 0 || JSON.stringify(next) !== JSON.stringify(previous)) {
        changes.push({ id: row.id, previous: JSON.stringify(previous), next: JSON.stringify(next), cleared });
      }
    }
    if (changes.length === 0) continue;
    const rows = await returnedRows<{ id: string; spend: number; model_spend: Record<string, number>; budget_reset_at: Date | null; cleared: number }>(
      query(
        `UPDATE ${table} AS t SET
           model_spend = t.model_spend - ARRAY(SELECT jsonb_array_elements_text(v.cleared)),
           model_budget_reset_at = v.next
         FROM unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::jsonb[]) AS v(id, previous, next, cleared)
         WHERE t.${id} = v.id AND t.model_budget_reset_at = v.previous
         RETURNING t.${id} AS id, t.spend, t.model_spend, t.budget_reset_at, jsonb_array_length(v.cleared) AS cleared`,
        [changes.map((change) => change.id), changes.map((change) => change.previous), changes.map((change) => change.next), changes.map((change) => JSON.stringify(change.cleared))],
      ),
    );
    for (const row of rows) {
      if (row.cleared > 0) reset.push({ kind, id: row.id, spend: row.spend, modelSpend: row.model_spend, budgetResetAt: row.budget_reset_at });
    }
  }
  return reset;
}
