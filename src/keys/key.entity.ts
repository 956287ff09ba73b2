import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { UsageLimits } from '../budgets/usage-limits';
import { Team } from '../teams/team.entity';
import { User } from '../users/user.entity';
import type { KeyRole } from './principal';

/** A virtual key. The key itself is never stored: only its SHA-256 (`token`, LiteLLM's name for it). */
// The budget reset job's lookup of rows whose period is over (budgets/budget-reset-job.ts).
@Index('idx_virtual_keys_budget_reset_at', ['usage.budgetResetAt'], { where: '"budget_reset_at" IS NOT NULL' })
@Entity({ name: 'virtual_keys' })
// The budget reset job looks for rows whose period is over.
@Index('idx_virtual_keys_budget_reset_at', (virtualkey: VirtualKey) => [virtualkey.usage.budgetResetAt], { where: '"budget_reset_at" IS NOT NULL' })
export class VirtualKey {
  @PrimaryColumn({ type: 'char', length: 64 })
  token: string;

  /** Display form `sk-...abcd`, enough to recognise a key without being able to use it. */
  @Column({ name: 'key_name', type: 'varchar', length: 32 })
  keyName: string;

  @Column({ name: 'key_alias', type: 'varchar', length: 256, nullable: true })
  keyAlias: string | null;

  @Index('idx_virtual_keys_team_id')
  @Column({ name: 'team_id', type: 'varchar', length: 256, nullable: true })
  teamId: string | null;

  @ManyToOne(() => Team, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'team_id', referencedColumnName: 'teamId', foreignKeyConstraintName: 'fk_virtual_keys_team' })
  team?: Team | null;

  /** The user who owns the key (LiteLLM's `user_id`); the row exists (created with the key when new). */
  @Index('idx_virtual_keys_user_id')
  @Column({ name: 'user_id', type: 'varchar', length: 256, nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'user_id', referencedColumnName: 'userId', foreignKeyConstraintName: 'fk_virtual_keys_user' })
  user?: User | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  role: KeyRole | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  /** Models the key may use; empty means all (within its team's list). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  models: string[];

  @Column({ type: 'boolean', default: false })
  blocked: boolean;

  @Column(() => UsageLimits, { prefix: false })
  usage: UsageLimits;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
