import { Injectable } from '@nestjs/common';
import type { LoggingSource, OwnedEntry } from '../logging-entry';
import type { StandardLoggingPayload } from '../standard-logging-payload';

export interface NewOutboxRow {
  eventId: string;
  entry: OwnedEntry;
  source: LoggingSource;
  teamId: string | null;
  payload: StandardLoggingPayload;
}

/**
 * One log event for one destination entry as the delivery worker handles it: claimed from the outbox, or
 * still only in memory (`id` null) because it is fresh and may be acknowledged before it ever needs a row.
 */
export interface DeliverableEvent {
  id: string | null;
  eventId: string;
  entryId: string;
  kind: string;
  source: LoggingSource;
  teamId: string | null;
  entry: OwnedEntry;
  payload: StandardLoggingPayload;
  attempts: number;
  createdAt: Date;
}

/** A row to insert: an event plus the state it is written in. */
export interface OutboxInsert extends NewOutboxRow {
  createdAt: Date;
  /** Claimed by this worker (it is sending the event right now), or null: claimable by any instance. */
  claimedBy: string | null;
  status: 'pending' | 'dead';
  attempts: number;
  /** Not claimable before now + this. */
  delayMs: number;
  lastError: string | null;
}

/** `last_error` keeps the start of a destination's error text; the rest is noise in a list of dead letters. */
const MAX_ERROR_CHARS = 2000;

export interface DeadLetter {
  id: string;
  event_id: string;
  kind: string;
  source: string;
  team_id: string | null;
  attempts: number;
  last_error: string | null;
  created_at: string;
}

export interface DeadLetterFilter {
  ids?: string[];
  teamId?: string;
  kind?: string;
}

/**
 * Where the outbox SQL runs: TypeORM's `DataSource.query` contract (rows; `[rows, affected]` for UPDATE and DELETE).
 * The main thread's DataSource on the main thread; in the delivery thread its own DataSource on PostgreSQL, or a
 * relay to the main thread's on the embedded database (it serves one connection).
 */
export abstract class OutboxSql {
  abstract query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * The SQL of the durable outbox, in one place. Plain Postgres that PGlite and PostgreSQL 15 both run:
 * `FOR UPDATE SKIP LOCKED` lets several workers (and several gateway instances) claim disjoint rows, and a
 * claim is a lease (`claimed_until`) so rows of a worker that died become claimable again.
 */
@Injectable()
export class OutboxStore {
  constructor(private readonly db: OutboxSql) {}

  /**
   * One multi-row INSERT; an event id that is already there (a rewrite after a write whose answer was lost)
   * is skipped. Rows with `claimedBy` get a lease of `leaseMs`, like a claim: if their writer dies, any
   * instance claims them once it has run out. Resolves the ids of the rows written, by event id.
   */
  async insert(rows: readonly OutboxInsert[], leaseMs: number): Promise<Map<string, string>> {
    if (rows.length === 0) return new Map();
    const values: unknown[] = [leaseMs];
    // A request logged to three destinations shares one payload object: serialise it once.
    const serialised = new Map<object, string>();
    const json = (value: object): string => {
      let text = serialised.get(value);
      if (text === undefined) {
        text = JSON.stringify(value);
        serialised.set(value, text);
      }
      return text;
    };
    const tuples = rows.map((row, index) => {
      const base = 1 + index * 13;
      values.push(
        row.eventId, row.entry.entry_id, row.entry.callback_name, row.source, row.teamId, json(row.entry), json(row.payload),
        row.claimedBy, row.status, row.attempts, Math.round(row.delayMs), row.lastError?.slice(0, MAX_ERROR_CHARS) ?? null, row.createdAt,
      );
      const p = (n: number) => `$${base + n}`;
      return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}::json, ${p(7)}::json, ${p(8)}::varchar, ` +
        `CASE WHEN ${p(8)}::varchar IS NULL THEN NULL ELSE now() + ($1::int * interval '1 millisecond') END, ` +
        `${p(9)}, ${p(10)}::int, now() + (${p(11)}::int * interval '1 millisecond'), ${p(12)}::text, ${p(13)}::timestamptz)`;
    });
    const inserted = (await this.db.query(
      `INSERT INTO log_outbox (event_id, entry_id, kind, source, team_id, entry, payload, claimed_by, claimed_until,
         status, attempts, next_attempt_at, last_error, created_at) VALUES ${tuples.join(', ')}
       ON CONFLICT (event_id) DO NOTHING
       RETURNING id, event_id`,
      values,
    )) as Array<{ id: string; event_id: string }>;
    return new Map(inserted.map((row) => [row.event_id, String(row.id)]));
  }

  async claim(options: { kind: string; worker: string; leaseMs: number; limit: number; excludeEntryIds: readonly string[] }): Promise<DeliverableEvent[]> {
    // TypeORM answers UPDATE with [rows, affected].
    const [rows] = (await this.db.query(
      `UPDATE log_outbox SET claimed_by = $1, claimed_until = now() + ($2::int * interval '1 millisecond')
       WHERE id IN (
         SELECT id FROM log_outbox
         WHERE status = 'pending' AND kind = $3 AND next_attempt_at <= now()
           AND (claimed_until IS NULL OR claimed_until < now())
           AND NOT (entry_id = ANY($4::varchar[]))
         ORDER BY id
         LIMIT $5
         FOR UPDATE SKIP LOCKED)
       RETURNING id, event_id, entry_id, kind, source, team_id, entry, payload, attempts, created_at`,
      [options.worker, options.leaseMs, options.kind, options.excludeEntryIds, options.limit],
    )) as [RawRow[], number];
    return rows.map(toClaimedRow);
  }

  /** Acknowledged by the destination: gone. Only the claimant deletes, so a lapsed lease is not undone. */
  async delete(ids: readonly string[], worker: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`DELETE FROM log_outbox WHERE id = ANY($1::bigint[]) AND claimed_by = $2`, [ids, worker]);
  }

  async reschedule(ids: readonly string[], worker: string, options: { delayMs: number; error: string }): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE log_outbox SET attempts = attempts + 1, next_attempt_at = now() + ($3::int * interval '1 millisecond'),
         claimed_by = NULL, claimed_until = NULL, last_error = $4
       WHERE id = ANY($1::bigint[]) AND claimed_by = $2`,
      [ids, worker, Math.round(options.delayMs), options.error.slice(0, MAX_ERROR_CHARS)],
    );
  }

  async deadLetter(ids: readonly string[], worker: string, error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE log_outbox SET status = 'dead', attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL, last_error = $3
       WHERE id = ANY($1::bigint[]) AND claimed_by = $2`,
      [ids, worker, error.slice(0, MAX_ERROR_CHARS)],
    );
  }

  /** Gives claimed rows back as they were (no attempt counted), e.g. when their entry's breaker opened. */
  async unclaim(ids: readonly string[], worker: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE log_outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ANY($1::bigint[]) AND claimed_by = $2`, [ids, worker]);
  }

  /** A team turned its logging off: what it logged before and is still waiting here is deleted too. */
  async purgeTeam(teamId: string): Promise<number> {
    const [, count] = (await this.db.query(`DELETE FROM log_outbox WHERE team_id = $1`, [teamId])) as [unknown[], number];
    return count;
  }

  /** Gives back claims this worker still holds (shutdown), so the next instance need not wait for the lease. */
  async release(worker: string): Promise<void> {
    await this.db.query(`UPDATE log_outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1`, [worker]);
  }

  async listDead(filter: DeadLetterFilter, limit: number): Promise<DeadLetter[]> {
    const { where, values } = deadFilter(filter);
    const rows = (await this.db.query(
      `SELECT id, event_id, kind, source, team_id, attempts, last_error, created_at FROM log_outbox WHERE ${where} ORDER BY id LIMIT $${values.length + 1}`,
      [...values, limit],
    )) as RawRow[];
    return rows.map((row) => ({
      id: String(row.id),
      event_id: row.event_id,
      kind: row.kind,
      source: row.source,
      team_id: row.team_id,
      attempts: row.attempts,
      last_error: row.last_error ?? null,
      created_at: new Date(row.created_at).toISOString(),
    }));
  }

  /** Dead letters back to pending, due now, with a fresh attempt budget. `entries` swaps in current settings. */
  async replay(filter: DeadLetterFilter): Promise<number> {
    const { where, values } = deadFilter(filter);
    const result = (await this.db.query(
      `UPDATE log_outbox SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, created_at = now()
       WHERE ${where}`,
      values,
    )) as [unknown[], number];
    return result[1];
  }

  async depth(): Promise<{ kind: string; status: string; count: number; oldestSeconds: number }[]> {
    const rows = (await this.db.query(
      `SELECT kind, status, count(*) AS count, EXTRACT(EPOCH FROM (now() - min(created_at))) AS oldest FROM log_outbox GROUP BY kind, status`,
    )) as { kind: string; status: string; count: string; oldest: string | null }[];
    return rows.map((row) => ({ kind: row.kind, status: row.status, count: Number(row.count), oldestSeconds: Number(row.oldest ?? 0) }));
  }
}

interface RawRow {
  id: string;
  event_id: string;
  entry_id: string;
  kind: string;
  source: LoggingSource;
  team_id: string | null;
  entry: OwnedEntry;
  payload: StandardLoggingPayload;
  attempts: number;
  last_error?: string | null;
  created_at: string | Date;
}

function toClaimedRow(row: RawRow): DeliverableEvent {
  return {
    id: String(row.id),
    eventId: row.event_id,
    entryId: row.entry_id,
    kind: row.kind,
    source: row.source,
    teamId: row.team_id,
    entry: row.entry,
    payload: row.payload,
    attempts: row.attempts,
    createdAt: new Date(row.created_at),
  };
}

function deadFilter(filter: DeadLetterFilter): { where: string; values: unknown[] } {
  const clauses = [`status = 'dead'`];
  const values: unknown[] = [];
  if (filter.ids !== undefined) {
    values.push(filter.ids);
    clauses.push(`id = ANY($${values.length}::bigint[])`);
  }
  if (filter.teamId !== undefined) {
    values.push(filter.teamId);
    clauses.push(`team_id = $${values.length}`);
  }
  if (filter.kind !== undefined) {
    values.push(filter.kind);
    clauses.push(`kind = $${values.length}`);
  }
  return { where: clauses.join(' AND '), values };
}
