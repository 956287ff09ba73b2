import type { SecretPlace } from '../common/secret-box';
import { isEnvReference } from '../config/env-reference';
import { isSecretVar, type DestinationKind } from './log-destination';

export const CALLBACK_TYPES = ['success', 'failure', 'success_and_failure'] as const;
export type CallbackType = (typeof CALLBACK_TYPES)[number];

/** What responses show instead of a secret (LiteLLM's mask). */
export const SECRET_MASK = '***REDACTED***';

/**
 * One logging destination of a key or team, as stored in `metadata.logging` (LiteLLM's shape plus two
 * fields of ours). Secret vars are encrypted (`gh2:...`, bound to the row, the entry and the variable: see
 * `entryPlace`); `os.environ/NAME` references stay references.
 */
export interface LoggingEntry {
  readonly callback_name: DestinationKind;
  readonly callback_type: CallbackType;
  readonly callback_vars: Readonly<Record<string, string>>;
  /** Stable id: with the call id it makes each delivered event's id, so redelivery is idempotent. */
  readonly entry_id: string;
  /** Set by the proxy admin or config: trusted hosts (no SSRF guard) and env references allowed. */
  readonly trusted: boolean;
}

export type LoggingSource = 'key' | 'team' | 'config' | 'global';

/** The row an entry is stored in. Its secrets are bound to it, so they cannot be moved to another row and used there. */
export interface EntryOwner {
  readonly table: 'teams' | 'virtual_keys';
  /** A team id, or a key's token. */
  readonly id: string;
}

export const teamOwner = (teamId: string): EntryOwner => ({ table: 'teams', id: teamId });
export const keyOwner = (token: string): EntryOwner => ({ table: 'virtual_keys', id: token });

/** An entry with the row it was read from (null for config and global entries), as delivery needs it to decrypt. */
export interface OwnedEntry extends LoggingEntry {
  readonly owner: EntryOwner | null;
}

export interface ResolvedEntry extends OwnedEntry {
  readonly source: LoggingSource;
}

/** Where the secrets of `entry` stored in `owner`'s row are bound (null: no row, so no secret may be encrypted). */
export function entryPlace(owner: EntryOwner, entryId: string): SecretPlace;
export function entryPlace(owner: EntryOwner | null | undefined, entryId: string): SecretPlace | null;
export function entryPlace(owner: EntryOwner | null | undefined, entryId: string): SecretPlace | null {
  return owner ? { table: owner.table, rowId: owner.id, entryId } : null;
}

/** The public view of an entry: LiteLLM's three fields, secrets masked (env references are not secrets). */
export interface MaskedEntry {
  callback_name: string;
  callback_type: CallbackType;
  callback_vars: Record<string, string>;
}

export function appliesTo(type: CallbackType, status: 'success' | 'failure'): boolean {
  return type === 'success_and_failure' || type === status;
}

/**
 * The stored `logging` list of a metadata object: `undefined` when the slot is absent (fall through to the
 * next source), a list (possibly empty: "log nowhere") when present. Entries that are not well-formed
 * (written by hand in the database, say) are skipped rather than failing requests.
 */
export function storedEntries(metadata: Readonly<Record<string, unknown>>): LoggingEntry[] | undefined {
  // Any callback_name is kept here, also one no module registers any more: the API shows it (masked) and can delete
  // it, /key/health names it, and the resolver leaves it out of delivery.
  const slot = metadata.logging;
  if (slot === undefined || slot === null) return undefined;
  if (!Array.isArray(slot)) return [];
  return slot.filter(isStoredEntry);
}

function isStoredEntry(value: unknown): value is LoggingEntry {
  if (value === null || typeof value !== 'object') return false;
  const entry = value as Partial<LoggingEntry>;
  return (
    typeof entry.callback_name === 'string' &&
    entry.callback_name !== '' &&
    (CALLBACK_TYPES as readonly unknown[]).includes(entry.callback_type) &&
    typeof entry.entry_id === 'string' &&
    typeof entry.trusted === 'boolean' &&
    entry.callback_vars !== null &&
    typeof entry.callback_vars === 'object'
  );
}

export function maskEntry(entry: LoggingEntry): MaskedEntry {
  return {
    callback_name: entry.callback_name,
    callback_type: entry.callback_type,
    callback_vars: maskVars(entry.callback_name, entry.callback_vars),
  };
}

export function maskVars(kind: DestinationKind, vars: Readonly<Record<string, string>>): Record<string, string> {
  const masked: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    masked[name] = isSecretVar(kind, name) && !isEnvReference(value) ? SECRET_MASK : value;
  }
  return masked;
}

/** A metadata object fit for a response or an audit row: its `logging` entries masked. */
export function maskMetadata(metadata: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const entries = storedEntries(metadata);
  if (entries === undefined) return { ...metadata };
  return { ...metadata, logging: entries.map(maskEntry) };
}
