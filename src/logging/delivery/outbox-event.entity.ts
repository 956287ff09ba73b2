import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { LoggingSource, OwnedEntry } from '../logging-entry';
import type { StandardLoggingPayload } from '../standard-logging-payload';

export type OutboxStatus = 'pending' | 'dead';

/**
 * One log event for one destination entry, kept until that destination acknowledged it. Rows are written
 * in batches off the request path and claimed by delivery workers with `FOR UPDATE SKIP LOCKED`, so
 * several gateway instances share the work; a claim is a lease, so a dead instance's rows come back.
 */
@Entity({ name: 'log_outbox' })
@Index('idx_log_outbox_claimable', ['status', 'kind', 'nextAttemptAt'])
export class OutboxEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  /** `<call id>:<entry id>`: the idempotency key downstream, and unique here so a rewrite is a no-op. */
  @Index('uq_log_outbox_event_id', { unique: true })
  @Column({ name: 'event_id', type: 'varchar', length: 300 })
  eventId: string;

  @Column({ name: 'entry_id', type: 'varchar', length: 300 })
  entryId: string;

  @Column({ type: 'varchar', length: 32 })
  kind: string;

  @Column({ type: 'varchar', length: 16 })
  source: LoggingSource;

  @Column({ name: 'team_id', type: 'varchar', length: 256, nullable: true })
  teamId: string | null;

  /** The entry as resolved at request time, with its owner (secrets still encrypted and bound to that row, env references unresolved). */
  @Column({ type: 'json' })
  entry: OwnedEntry;

  @Column({ type: 'json' })
  payload: StandardLoggingPayload;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: OutboxStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'claimed_by', type: 'varchar', length: 64, nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
