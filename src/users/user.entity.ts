import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { UsageLimits } from '../budgets/usage-limits';

/** LiteLLM's user roles; a key carries its user's rights only where said (team admins by membership). */
export const USER_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer', 'customer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** An internal user (LiteLLM's `LiteLLM_UserTable`): owns keys, belongs to teams, has its own spend and limits. */
// The budget reset job's lookup of rows whose period is over (budgets/budget-reset-job.ts).
@Index('idx_users_budget_reset_at', ['usage.budgetResetAt'], { where: '"budget_reset_at" IS NOT NULL' })
@Entity({ name: 'users' })
// The budget reset job looks for rows whose period is over.
@Index('idx_users_budget_reset_at', (user: User) => [user.usage.budgetResetAt], { where: '"budget_reset_at" IS NOT NULL' })
export class User {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 256 })
  userId: string;

  @Index('idx_users_user_email')
  @Column({ name: 'user_email', type: 'varchar', length: 320, nullable: true })
  userEmail: string | null;

  @Column({ name: 'user_alias', type: 'varchar', length: 256, nullable: true })
  userAlias: string | null;

  @Column({ name: 'user_role', type: 'varchar', length: 32, nullable: true })
  userRole: UserRole | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  /** Models the user's keys may use; empty means all. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  models: string[];

  @Column(() => UsageLimits, { prefix: false })
  usage: UsageLimits;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
