import { UsageLimits } from '../budgets/usage-limits';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type TeamSource = 'api' | 'config';

// The budget reset job's lookup of rows whose period is over (budgets/budget-reset-job.ts).
@Index('idx_teams_budget_reset_at', ['usage.budgetResetAt'], { where: '"budget_reset_at" IS NOT NULL' })
@Entity({ name: 'teams' })
// The budget reset job looks for rows whose period is over.
@Index('idx_teams_budget_reset_at', (team: Team) => [team.usage.budgetResetAt], { where: '"budget_reset_at" IS NOT NULL' })
export class Team {
  /** LiteLLM team ids are caller-chosen strings (or a generated uuid). */
  @PrimaryColumn({ name: 'team_id', type: 'varchar', length: 256 })
  teamId: string;

  @Column({ name: 'team_alias', type: 'varchar', length: 256, nullable: true })
  teamAlias: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  /** Models the team may use; empty means all. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  models: string[];

  @Column({ type: 'boolean', default: false })
  blocked: boolean;

  /**
   * Set by `POST /team/{id}/disable_logging`: the team logs nowhere (not its keys' own destinations, not the
   * global callbacks) until a callback is added again.
   */
  @Column({ name: 'logging_disabled', type: 'boolean', default: false })
  loggingDisabled: boolean;

  @Column(() => UsageLimits, { prefix: false })
  usage: UsageLimits;

  /** `config` for teams upserted from `default_team_settings` at boot. */
  @Column({ type: 'varchar', length: 16, default: 'api' })
  source: TeamSource;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
