import { isEncrypted, SecretDecryptionError, type SecretBinding } from '../../common/secret-box';
import { entryPlace, keyOwner, teamOwner, type EntryOwner } from '../logging-entry';

/**
 * Every place a logging secret is stored, walked in one way for the migration that binds ciphertexts to their rows
 * and for the re-encryption route: `teams.metadata.logging[].callback_vars`, `virtual_keys.metadata.logging[]
 * .callback_vars`, and the entry copy each outbox row (dead letters included) keeps. Audit rows hold masked values
 * only, and config or global entries hold no ciphertext.
 */
export type StoredSecretTable = 'teams' | 'virtual_keys' | 'log_outbox';

/** Where one stored ciphertext is; never its value. */
export interface SecretLocation {
  table: StoredSecretTable;
  /** Team id, key token, or outbox row id. */
  row_id: string;
  entry_id: string;
  field: string;
}

/**
 * The value to store instead of `value` (the same string: keep it). Throwing `SecretDecryptionError` leaves the value
 * as it is and reports it unreadable; any other error stops the walk.
 */
export type SecretRewrite = (value: string, binding: SecretBinding) => string;

export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Runs one batch of rows: in a transaction of its own (the re-encryption route) or in the caller's (a migration). */
export type BatchRunner = <T>(batch: (sql: SqlRunner) => Promise<T>) => Promise<T>;

export interface StoredSecretsReport {
  rewritten: number;
  unchanged: number;
  unreadable: SecretLocation[];
  /** Rows whose metadata changed, so cached principals built from them can be dropped. */
  changedTeams: string[];
  changedKeys: string[];
}

const BATCH_ROWS = 100;
/** Only rows holding something shaped like a ciphertext (`"gh1:...`, `"gh2:...`) are read. */
const HOLDS_CIPHERTEXT = `LIKE '%"gh_:%'`;

export async function rewriteStoredSecrets(runBatch: BatchRunner, rewrite: SecretRewrite, options: { dryRun?: boolean } = {}): Promise<StoredSecretsReport> {
  const report: StoredSecretsReport = { rewritten: 0, unchanged: 0, unreadable: [], changedTeams: [], changedKeys: [] };
  for (const [table, key] of [['teams', 'team_id'], ['virtual_keys', 'token']] as const) {
    let after = '';
    for (;;) {
      const last = await runBatch(async (sql) => {
        const rows = (await sql.query(
          `SELECT ${key} AS id, metadata FROM ${table} WHERE ${key} > $1 AND metadata::text ${HOLDS_CIPHERTEXT} ORDER BY ${key} LIMIT ${BATCH_ROWS} FOR UPDATE`,
          [after],
        )) as { id: string; metadata: Record<string, unknown> }[];
        for (const row of rows) {
          const owner = table === 'teams' ? teamOwner(row.id) : keyOwner(row.id);
          const logging = row.metadata.logging;
          if (!Array.isArray(logging)) continue;
          let changed = false;
          const entries = logging.map((entry: unknown) => {
            const result = rewriteEntry(entry, owner, { table, row_id: row.id }, rewrite, report);
            changed ||= result !== entry;
            return result;
          });
          if (!changed) continue;
          (table === 'teams' ? report.changedTeams : report.changedKeys).push(row.id);
          if (!options.dryRun) await sql.query(`UPDATE ${table} SET metadata = $2::jsonb WHERE ${key} = $1`, [row.id, JSON.stringify({ ...row.metadata, logging: entries })]);
        }
        return rows.length === BATCH_ROWS ? rows[rows.length - 1].id : null;
      });
      if (last === null) break;
      after = last;
    }
  }

  let afterId = '0';
  for (;;) {
    const last = await runBatch(async (sql) => {
      const rows = (await sql.query(
        `SELECT id, source, team_id, entry, payload->'metadata'->>'user_api_key_hash' AS key_hash FROM log_outbox
         WHERE id > $1::bigint AND entry::text ${HOLDS_CIPHERTEXT} ORDER BY id LIMIT ${BATCH_ROWS} FOR UPDATE`,
        [afterId],
      )) as { id: string | number; source: string; team_id: string | null; entry: Record<string, unknown>; key_hash: string | null }[];
      for (const row of rows) {
        const id = String(row.id);
        const owner = outboxOwner(row);
        const rewritten = rewriteEntry(row.entry, owner, { table: 'log_outbox', row_id: id }, rewrite, report);
        const withOwner = row.entry.owner === undefined && owner !== null ? { ...(rewritten as object), owner } : rewritten;
        if (withOwner !== row.entry && !options.dryRun) await sql.query(`UPDATE log_outbox SET entry = $2::json WHERE id = $1::bigint`, [id, JSON.stringify(withOwner)]);
      }
      return rows.length === BATCH_ROWS ? String(rows[rows.length - 1].id) : null;
    });
    if (last === null) break;
    afterId = last;
  }
  return report;
}

/**
 * The owner of an outbox row's entry: recorded in the entry since secrets are bound; for rows written before, the
 * team of a team entry or the key (its token, from the payload) of a key entry.
 */
function outboxOwner(row: { source: string; team_id: string | null; entry: Record<string, unknown>; key_hash: string | null }): EntryOwner | null {
  const recorded = row.entry.owner as EntryOwner | null | undefined;
  if (recorded !== undefined) return recorded;
  if (row.source === 'team' && row.team_id !== null) return teamOwner(row.team_id);
  if (row.source === 'key' && row.key_hash) return keyOwner(row.key_hash);
  return null;
}

/** One stored entry with `rewrite` applied to its encrypted vars: the same object when nothing changed. */
function rewriteEntry(
  entry: unknown,
  owner: EntryOwner | null,
  row: Pick<SecretLocation, 'table' | 'row_id'>,
  rewrite: SecretRewrite,
  report: StoredSecretsReport,
): unknown {
  if (entry === null || typeof entry !== 'object') return entry;
  const { entry_id: entryId, callback_vars: vars } = entry as { entry_id?: unknown; callback_vars?: unknown };
  if (typeof entryId !== 'string' || vars === null || typeof vars !== 'object') return entry;
  const place = entryPlace(owner, entryId);
  let changed = false;
  const next: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(vars as Record<string, unknown>)) {
    next[field] = value;
    if (!isEncrypted(value)) continue;
    try {
      if (place === null) throw new SecretDecryptionError('no owner to bind to');
      const replacement = rewrite(value, { ...place, field });
      if (replacement === value) {
        report.unchanged++;
      } else {
        next[field] = replacement;
        changed = true;
        report.rewritten++;
      }
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      report.unreadable.push({ ...row, entry_id: entryId, field });
    }
  }
  return changed ? { ...entry, callback_vars: next } : entry;
}
