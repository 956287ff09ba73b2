import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Who changed a team's or a key's logging, when, and what it was before and after. Values of secret
 * callback vars are masked before they get here: the audit table is not a second place to read credentials.
 * Column names follow LiteLLM's `LiteLLM_AuditLogs`.
 */
@Entity({ name: 'audit_log' })
@Index('idx_audit_log_team_id_updated_at', ['teamId', 'updatedAt'])
export class AuditLog {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @CreateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** `litellm-changed-by` header when given, else the caller (`master_key` or `key:<alias or token prefix>`). */
  @Column({ name: 'changed_by', type: 'varchar', length: 256 })
  changedBy: string;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  /** `teams` or `virtual_keys`. */
  @Column({ name: 'table_name', type: 'varchar', length: 64 })
  tableName: string;

  @Column({ name: 'object_id', type: 'varchar', length: 256 })
  objectId: string;

  @Column({ name: 'team_id', type: 'varchar', length: 256, nullable: true })
  teamId: string | null;

  @Column({ name: 'before_value', type: 'jsonb', nullable: true })
  beforeValue: Record<string, unknown> | null;

  @Column({ name: 'updated_values', type: 'jsonb', nullable: true })
  updatedValues: Record<string, unknown> | null;
}
