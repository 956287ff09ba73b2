/** What spend is filed under: a key (its hash), a team, a user, a team member (team + user), an end user (the request's `user`). */
export type SpendKind = 'key' | 'team' | 'user' | 'member' | 'end_user';

export const SPEND_KINDS: readonly SpendKind[] = ['key', 'team', 'user', 'member', 'end_user'];

/** PostgreSQL text cannot hold NUL, so it cannot occur inside either id of a member. */
const MEMBER_SEPARATOR = '\u0000';

export function memberId(teamId: string, userId: string): string {
  return `${teamId}${MEMBER_SEPARATOR}${userId}`;
}

export function splitMemberId(id: string): [teamId: string, userId: string] {
  const at = id.indexOf(MEMBER_SEPARATOR);
  return [id.slice(0, at), id.slice(at + 1)];
}

interface Delta {
  spend: number;
  /** Per model group, for `model_spend`; null for members and end users, which have none. */
  models: Map<string, number> | null;
}

type Deltas = Record<SpendKind, Map<string, Delta>>;

/** An entity's spend as the database had it right after a flush added to it. */
export interface FlushedRow {
  readonly kind: SpendKind;
  readonly id: string;
  readonly spend: number;
  /** Keys, teams, users. */
  readonly modelSpend?: Record<string, number>;
  /** Members (`max_budget_in_team`) and end users (`max_budget`). */
  readonly maxBudget?: number | null;
}

export interface FlushOutcome {
  readonly rows: FlushedRow[];
  /** Tables whose statement failed: their deltas are back in the ledger, for the next flush. */
  readonly failed: { kind: SpendKind; error: Error }[];
}

/** Runs one SQL statement; a TypeORM DataSource's `query` fits. */
export type QueryRunnerFn = (sql: string, parameters: unknown[]) => Promise<unknown>;

/** The rows a statement returned: TypeORM answers an UPDATE (or DELETE) ... RETURNING with `[rows, rowCount]`. */
export async function returnedRows<T>(pending: Promise<unknown>): Promise<T[]> {
  const result = await pending;
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

const ID_COLUMN: Record<'key' | 'team' | 'user', { table: string; id: string }> = {
  key: { table: 'virtual_keys', id: 'token' },
  team: { table: 'teams', id: 'team_id' },
  user: { table: 'users', id: 'user_id' },
};

function emptyDeltas(): Deltas {
  return { key: new Map(), team: new Map(), user: new Map(), member: new Map(), end_user: new Map() };
}

/**
 * Spend not yet in the database, summed per entity in memory and written in batches: one statement per table per
 * flush, each adding this instance's deltas to what the row holds (`spend = spend + delta`), so any number of
 * instances flushing at once add up exactly. A statement that fails leaves its deltas here for the next flush.
 */
export class SpendLedger {
  private pending: Deltas = emptyDeltas();
  /** Deltas of the flush running now: still counted as unflushed until their statement commits. */
  private inflight: Deltas | null = null;
  private running: Promise<FlushOutcome> | null = null;

  constructor(private readonly query: QueryRunnerFn) {}

  /** Files `cost` against one entity (and its `model`, for keys, teams and users). */
  add(kind: SpendKind, id: string, cost: number, model: string | null): void {
    const deltas = this.pending[kind];
    let delta = deltas.get(id);
    if (delta === undefined) {
      delta = { spend: 0, models: null };
      deltas.set(id, delta);
    }
    delta.spend += cost;
    if (model !== null && kind !== 'member' && kind !== 'end_user') {
      const models = (delta.models ??= new Map());
      models.set(model, (models.get(model) ?? 0) + cost);
    }
  }

  /** Spend of the entity not yet committed to the database (pending plus being flushed). */
  unflushed(kind: SpendKind, id: string): number {
    return (this.pending[kind].get(id)?.spend ?? 0) + (this.inflight?.[kind].get(id)?.spend ?? 0);
  }

  unflushedForModel(kind: SpendKind, id: string, model: string): number {
    return (this.pending[kind].get(id)?.models?.get(model) ?? 0) + (this.inflight?.[kind].get(id)?.models?.get(model) ?? 0);
  }

  get isEmpty(): boolean {
    return SPEND_KINDS.every((kind) => this.pending[kind].size === 0);
  }

  /** Writes everything pending; flushes never overlap (a second call waits for the first, then writes what came since). */
  async flush(): Promise<FlushOutcome> {
    while (this.running !== null) await this.running.catch(() => undefined);
    if (this.isEmpty) return { rows: [], failed: [] };
    const batch = this.pending;
    this.pending = emptyDeltas();
    this.inflight = batch;
    this.running = this.write(batch);
    try {
      return await this.running;
    } finally {
      this.running = null;
      this.inflight = null;
    }
  }

  private async write(batch: Deltas): Promise<FlushOutcome> {
    const rows: FlushedRow[] = [];
    const failed: FlushOutcome['failed'] = [];
    for (const kind of SPEND_KINDS) {
      const deltas = batch[kind];
      if (deltas.size === 0) continue;
      try {
        rows.push(...(await this.writeTable(kind, deltas)));
      } catch (error) {
        this.restore(kind, deltas);
        failed.push({ kind, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
    return { rows, failed };
  }

  /** A failed table's deltas go back, added to whatever was filed meanwhile. */
  private restore(kind: SpendKind, deltas: Map<string, Delta>): void {
    for (const [id, delta] of deltas) {
      this.add(kind, id, delta.spend, null);
      if (delta.models !== null) {
        const target = this.pending[kind].get(id);
        if (target === undefined) continue;
        const models = (target.models ??= new Map());
        for (const [model, cost] of delta.models) models.set(model, (models.get(model) ?? 0) + cost);
      }
    }
  }

  private async writeTable(kind: SpendKind, deltas: Map<string, Delta>): Promise<FlushedRow[]> {
    // Rows are locked in id order on every instance, so two concurrent flushes cannot deadlock on each other.
    const ids = [...deltas.keys()].sort();
    const spends = ids.map((id) => deltas.get(id)?.spend ?? 0);
    if (kind === 'end_user') {
      // An end user's row appears with its first spend.
      const rows = await returnedRows<{ id: string; spend: number; max_budget: number | null }>(
        this.query(
          `INSERT INTO end_users AS e (user_id, spend)
           SELECT id, spend FROM unnest($1::text[], $2::float8[]) AS v(id, spend)
           ON CONFLICT (user_id) DO UPDATE SET spend = e.spend + EXCLUDED.spend, updated_at = now()
           RETURNING e.user_id AS id, e.spend, e.max_budget`,
          [ids, spends],
        ),
      );
      return rows.map((row) => ({ kind, id: row.id, spend: row.spend, maxBudget: row.max_budget }));
    }
    if (kind === 'member') {
      const pairs = ids.map(splitMemberId);
      const rows = await returnedRows<{ team_id: string; user_id: string; spend: number; max_budget_in_team: number | null }>(
        this.query(
          `UPDATE team_members AS t SET spend = t.spend + v.spend
           FROM unnest($1::text[], $2::text[], $3::float8[]) AS v(team_id, user_id, spend)
           WHERE t.team_id = v.team_id AND t.user_id = v.user_id
           RETURNING t.team_id, t.user_id, t.spend, t.max_budget_in_team`,
          [pairs.map((pair) => pair[0]), pairs.map((pair) => pair[1]), spends],
        ),
      );
      return rows.map((row) => ({ kind, id: memberId(row.team_id, row.user_id), spend: row.spend, maxBudget: row.max_budget_in_team }));
    }
    const { table, id: idColumn } = ID_COLUMN[kind];
    const models = ids.map((id) => {
      const perModel = deltas.get(id)?.models;
      return JSON.stringify(perModel ? Object.fromEntries(perModel) : {});
    });
    // model_spend is merged key by key inside the UPDATE, so it is as atomic as `spend = spend + delta`.
    const rows = await returnedRows<{ id: string; spend: number; model_spend: Record<string, number> }>(
      this.query(
        `UPDATE ${table} AS t SET
           spend = t.spend + v.spend,
           model_spend = CASE WHEN v.models = '{}'::jsonb THEN t.model_spend ELSE (
             SELECT jsonb_object_agg(m, COALESCE((t.model_spend ->> m)::float8, 0) + COALESCE((v.models ->> m)::float8, 0))
             FROM jsonb_object_keys(t.model_spend || v.models) AS m
           ) END
         FROM unnest($1::text[], $2::float8[], $3::jsonb[]) AS v(id, spend, models)
         WHERE t.${idColumn} = v.id
         RETURNING t.${idColumn} AS id, t.spend, t.model_spend`,
        [ids, spends, models],
      ),
    );
    return rows.map((row) => ({ kind, id: row.id, spend: row.spend, modelSpend: row.model_spend }));
  }
}
