import { Column } from 'typeorm';

/** `{"gpt-4o": {"budget_limit": 0.5, "time_period": "1d"}}`: LiteLLM's per-model budget of a key, team or user. */
export type ModelMaxBudget = Record<string, { budget_limit: number; time_period?: string | null }>;

/**
 * The spend, budget and rate-limit columns keys, teams and users share (LiteLLM's names), embedded in each
 * entity without a prefix. `spend` only ever changes by atomic increments (budgets/spend-ledger.ts) and by the
 * budget reset; everything else is set through the management API.
 */
export class UsageLimits {
  @Column({ type: 'double precision', default: 0 })
  spend: number;

  @Column({ name: 'max_budget', type: 'double precision', nullable: true })
  maxBudget: number | null;

  @Column({ name: 'soft_budget', type: 'double precision', nullable: true })
  softBudget: number | null;

  /** `30s`, `10m`, `24h`, `30d`, `1mo`: spend goes back to 0 at `budget_reset_at`, which then moves on by this much. */
  @Column({ name: 'budget_duration', type: 'varchar', length: 32, nullable: true })
  budgetDuration: string | null;

  @Column({ name: 'budget_reset_at', type: 'timestamptz', nullable: true })
  budgetResetAt: Date | null;

  @Column({ name: 'rpm_limit', type: 'integer', nullable: true })
  rpmLimit: number | null;

  @Column({ name: 'tpm_limit', type: 'integer', nullable: true })
  tpmLimit: number | null;

  @Column({ name: 'max_parallel_requests', type: 'integer', nullable: true })
  maxParallelRequests: number | null;

  @Column({ name: 'model_max_budget', type: 'jsonb', default: () => "'{}'" })
  modelMaxBudget: ModelMaxBudget;

  @Column({ name: 'model_rpm_limit', type: 'jsonb', default: () => "'{}'" })
  modelRpmLimit: Record<string, number>;

  @Column({ name: 'model_tpm_limit', type: 'jsonb', default: () => "'{}'" })
  modelTpmLimit: Record<string, number>;

  /** Spend per model group since the last reset, for `model_max_budget`. */
  @Column({ name: 'model_spend', type: 'jsonb', default: () => "'{}'" })
  modelSpend: Record<string, number>;

  /** When each `model_max_budget` entry's own `time_period` ends (ISO instants), kept by the budget reset job. */
  @Column({ name: 'model_budget_reset_at', type: 'jsonb', default: () => "'{}'" })
  modelBudgetResetAt: Record<string, string>;

  /** LiteLLM fields Gatehouse keeps and returns but does not act on (each named in the answer's `warnings`). */
  @Column({ name: 'extra_fields', type: 'jsonb', default: () => "'{}'" })
  extraFields: Record<string, unknown>;
}

/** The SQL of the columns above, for the migration that adds them to keys, teams and users. */
export const USAGE_LIMIT_COLUMNS_SQL = [
  `"spend" double precision NOT NULL DEFAULT 0`,
  `"max_budget" double precision`,
  `"soft_budget" double precision`,
  `"budget_duration" varchar(32)`,
  `"budget_reset_at" TIMESTAMP WITH TIME ZONE`,
  `"rpm_limit" integer`,
  `"tpm_limit" integer`,
  `"max_parallel_requests" integer`,
  `"model_max_budget" jsonb NOT NULL DEFAULT '{}'`,
  `"model_rpm_limit" jsonb NOT NULL DEFAULT '{}'`,
  `"model_tpm_limit" jsonb NOT NULL DEFAULT '{}'`,
  `"model_spend" jsonb NOT NULL DEFAULT '{}'`,
  `"extra_fields" jsonb NOT NULL DEFAULT '{}'`,
];

/** The limits of one key, team or user as the request path reads them; null where the entity sets none. */
export interface LimitSet {
  /** The key's hash, the team's id or the user's id: what its counters and spend are filed under. */
  readonly id: string;
  readonly maxBudget: number | null;
  readonly softBudget: number | null;
  readonly rpmLimit: number | null;
  readonly tpmLimit: number | null;
  readonly maxParallelRequests: number | null;
  readonly modelMaxBudget: Readonly<ModelMaxBudget> | null;
  readonly modelRpmLimit: Readonly<Record<string, number>> | null;
  readonly modelTpmLimit: Readonly<Record<string, number>> | null;
  /** Spend as the database had it when the principal was loaded; the spend ledger adds what happened since. */
  readonly spend: number;
  readonly modelSpend: Readonly<Record<string, number>>;
  readonly budgetResetAt: Date | null;
}

/** The budgets and rate limits a request is held to, by level. */
export interface PrincipalLimits {
  readonly key: LimitSet | null;
  readonly team: LimitSet | null;
  readonly user: LimitSet | null;
}

export const NO_LIMITS: PrincipalLimits = Object.freeze({ key: null, team: null, user: null });

const LIMIT_FIELDS = ['maxBudget', 'softBudget', 'rpmLimit', 'tpmLimit', 'maxParallelRequests', 'modelMaxBudget', 'modelRpmLimit', 'modelTpmLimit'] as const;

const nonEmpty = <T extends object>(value: T | null | undefined): T | null => (value && Object.keys(value).length > 0 ? value : null);

/** Null when the entity sets no budget and no limit, so an unlimited caller costs one null check per level. */
export function limitSetOf(id: string, usage: UsageLimits | undefined): LimitSet | null {
  if (!usage) return null;
  const set: LimitSet = {
    id,
    maxBudget: usage.maxBudget ?? null,
    softBudget: usage.softBudget ?? null,
    rpmLimit: usage.rpmLimit ?? null,
    tpmLimit: usage.tpmLimit ?? null,
    maxParallelRequests: usage.maxParallelRequests ?? null,
    modelMaxBudget: nonEmpty(usage.modelMaxBudget),
    modelRpmLimit: nonEmpty(usage.modelRpmLimit),
    modelTpmLimit: nonEmpty(usage.modelTpmLimit),
    spend: usage.spend ?? 0,
    modelSpend: usage.modelSpend ?? {},
    budgetResetAt: usage.budgetResetAt ?? null,
  };
  const limited = LIMIT_FIELDS.some((name) => set[name] !== null);
  return limited ? Object.freeze(set) : null;
}
