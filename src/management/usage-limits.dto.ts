import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsNumber, IsObject, IsOptional, IsString, Min, ValidateBy } from 'class-validator';
import { budgetDurationProblem, nextBudgetReset } from '../budgets/budget-period';
import { UsageLimits, type ModelMaxBudget } from '../budgets/usage-limits';
import { AppException } from '../errors';

const emptyStringIsNull = Transform(({ value }: { value: unknown }) => (value === '' ? null : value));

const IsBudget = (field: string) => [
  IsNumber({ allowNaN: false, allowInfinity: false }, { message: `${field} must be a number` }),
  Min(0, { message: (args) => `${field} cannot be negative. Received: ${String(args.value)}` }),
];

const IsLimit = (field: string) => [IsInt({ message: `${field} must be an integer` }), Min(0, { message: `${field} cannot be negative` })];

const IsBudgetDuration = () =>
  ValidateBy({
    name: 'isBudgetDuration',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && budgetDurationProblem(value) === null,
      defaultMessage: (args) => budgetDurationProblem(String(args?.value)) ?? 'budget_duration is invalid',
    },
  });

function apply(decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
}

/**
 * The budget and rate-limit fields keys, teams and users share (LiteLLM's names), declared once. `null` means not
 * given on create; on update it clears the limit (LiteLLM writes every field the request sets, null included).
 */
export class UsageLimitsInputDto {
  @ApiPropertyOptional({ example: 10, nullable: true, type: Number, description: 'USD; spend at or above it is refused (null on update: no budget)' })
  @IsOptional()
  @emptyStringIsNull
  @apply(IsBudget('max_budget'))
  max_budget?: number | null;

  @ApiPropertyOptional({ example: 8, nullable: true, type: Number, description: 'USD; reaching it only warns' })
  @IsOptional()
  @emptyStringIsNull
  @apply(IsBudget('soft_budget'))
  soft_budget?: number | null;

  @ApiPropertyOptional({ example: '30d', nullable: true, type: String, description: 'Budget period: `30s`, `15m`, `12h`, `1d`, `2w`, `1mo`' })
  @IsOptional()
  @IsString()
  @IsBudgetDuration()
  budget_duration?: string | null;

  @ApiPropertyOptional({ example: 60, nullable: true, type: Number, description: 'Requests per minute' })
  @IsOptional()
  @apply(IsLimit('rpm_limit'))
  rpm_limit?: number | null;

  @ApiPropertyOptional({ example: 100000, nullable: true, type: Number, description: 'Tokens per minute' })
  @IsOptional()
  @apply(IsLimit('tpm_limit'))
  tpm_limit?: number | null;

  @ApiPropertyOptional({ example: 4, nullable: true, type: Number })
  @IsOptional()
  @apply(IsLimit('max_parallel_requests'))
  max_parallel_requests?: number | null;

  @ApiPropertyOptional({
    example: { 'gpt-4': { budget_limit: 0.5, time_period: '1d' } },
    nullable: true,
    description: 'Per-model budgets: `{model: {max_budget | budget_limit, budget_duration | time_period}}`',
  })
  @IsOptional()
  @IsObject()
  model_max_budget?: Record<string, unknown> | null;

  @ApiPropertyOptional({ example: { 'gpt-4': 10 }, nullable: true, description: 'Requests per minute per model (also read from metadata.model_rpm_limit)' })
  @IsOptional()
  @IsObject()
  model_rpm_limit?: Record<string, unknown> | null;

  @ApiPropertyOptional({ example: { 'gpt-4': 10000 }, nullable: true, description: 'Tokens per minute per model (also read from metadata.model_tpm_limit)' })
  @IsOptional()
  @IsObject()
  model_tpm_limit?: Record<string, unknown> | null;
}

/** `spend` set by hand: LiteLLM lets admins reset or seed it. */
export class SpendInputDto extends UsageLimitsInputDto {
  @ApiPropertyOptional({ example: 0, nullable: true, type: Number, description: 'Proxy admin only' })
  @IsOptional()
  @apply(IsBudget('spend'))
  spend?: number | null;
}

/** A fresh set of columns: no budget, no limit, nothing spent. */
export function newUsageLimits(): UsageLimits {
  return Object.assign(new UsageLimits(), {
    spend: 0,
    maxBudget: null,
    softBudget: null,
    budgetDuration: null,
    budgetResetAt: null,
    rpmLimit: null,
    tpmLimit: null,
    maxParallelRequests: null,
    modelMaxBudget: {},
    modelRpmLimit: {},
    modelTpmLimit: {},
    modelSpend: {},
    modelBudgetResetAt: {},
    extraFields: {},
  } satisfies UsageLimits);
}

const SCALARS = [
  ['max_budget', 'maxBudget'],
  ['soft_budget', 'softBudget'],
  ['rpm_limit', 'rpmLimit'],
  ['tpm_limit', 'tpmLimit'],
  ['max_parallel_requests', 'maxParallelRequests'],
] as const;

const METADATA_LIMITS = ['model_rpm_limit', 'model_tpm_limit'] as const;

export interface UsageChange {
  dto: SpendInputDto | UsageLimitsInputDto;
  /** Creating (null = absent) or updating (null clears). */
  creating: boolean;
  now: Date;
  /** The metadata given with the request: `model_rpm_limit` / `model_tpm_limit` there are read (LiteLLM keeps them there). */
  metadata?: Record<string, unknown> | null;
  /** May set `spend` (the proxy admin). */
  maySetSpend?: boolean;
}

/**
 * Checks every budget and limit field of the request and writes them onto `usage`. Throws a 400 naming the field
 * before anything changes. Returns the metadata without the per-model limits it carried (they live in columns).
 */
export function applyUsageLimits(usage: UsageLimits, change: UsageChange): Record<string, unknown> | null | undefined {
  const { dto, creating, now } = change;
  const given = (value: unknown): boolean => value !== undefined && !(creating && value === null);

  const metadata = change.metadata === undefined || change.metadata === null ? change.metadata : { ...change.metadata };
  const fromMetadata: Partial<Record<(typeof METADATA_LIMITS)[number], Record<string, number>>> = {};
  if (metadata) {
    for (const field of METADATA_LIMITS) {
      if (!(field in metadata)) continue;
      const value = metadata[field];
      delete metadata[field];
      if (value !== null) fromMetadata[field] = readModelLimits(value, `metadata.${field}`);
    }
  }
  const rpm = dto.model_rpm_limit === undefined ? fromMetadata.model_rpm_limit : dto.model_rpm_limit === null ? null : readModelLimits(dto.model_rpm_limit, 'model_rpm_limit');
  const tpm = dto.model_tpm_limit === undefined ? fromMetadata.model_tpm_limit : dto.model_tpm_limit === null ? null : readModelLimits(dto.model_tpm_limit, 'model_tpm_limit');
  const modelMaxBudget = dto.model_max_budget === undefined || dto.model_max_budget === null ? dto.model_max_budget : readModelMaxBudget(dto.model_max_budget);
  const spend = 'spend' in dto ? dto.spend : undefined;
  if (spend !== undefined && spend !== null && !change.maySetSpend) {
    throw new AppException('forbidden', 'Only the proxy admin may set spend', { param: 'spend' });
  }

  for (const [field, column] of SCALARS) {
    const value = dto[field];
    if (given(value)) usage[column] = value ?? null;
  }
  if (given(dto.budget_duration)) {
    usage.budgetDuration = dto.budget_duration ?? null;
    usage.budgetResetAt = dto.budget_duration ? nextBudgetReset(dto.budget_duration, now) : null;
  }
  if (given(modelMaxBudget)) usage.modelMaxBudget = modelMaxBudget ?? {};
  if (given(rpm)) usage.modelRpmLimit = rpm ?? {};
  if (given(tpm)) usage.modelTpmLimit = tpm ?? {};
  if (spend !== undefined && spend !== null) usage.spend = spend;
  return metadata;
}

function readModelLimits(value: unknown, param: string): Record<string, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppException('validation_failed', `${param} must be an object of model name → integer`, { param });
  }
  const limits: Record<string, number> = {};
  for (const [model, limit] of Object.entries(value as Record<string, unknown>)) {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
      throw new AppException('validation_failed', `${param}.${model} must be a non-negative integer`, { param: `${param}.${model}` });
    }
    limits[model] = limit;
  }
  return limits;
}

/** `{model: {max_budget | budget_limit, budget_duration | time_period}}` → the stored `{budget_limit, time_period}`. */
function readModelMaxBudget(value: Record<string, unknown>): ModelMaxBudget {
  const budgets: ModelMaxBudget = {};
  for (const [model, entry] of Object.entries(value)) {
    const param = `model_max_budget.${model}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new AppException('validation_failed', `${param} must be an object such as {"budget_limit": 0.5, "time_period": "1d"}`, { param });
    }
    const fields = entry as Record<string, unknown>;
    for (const name of Object.keys(fields)) {
      if (!['max_budget', 'budget_limit', 'budget_duration', 'time_period', 'tpm_limit', 'rpm_limit'].includes(name)) {
        throw new AppException('unrecognized_field', `Unrecognized request argument supplied: ${param}.${name}`, { param: `${param}.${name}` });
      }
    }
    const rawLimit = fields.budget_limit ?? fields.max_budget;
    // LiteLLM coerces a numeric string.
    const limit = typeof rawLimit === 'string' && rawLimit.trim() !== '' ? Number(rawLimit) : rawLimit;
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit < 0) {
      throw new AppException('validation_failed', `${param}.budget_limit must be a non-negative number`, { param: `${param}.budget_limit` });
    }
    const period = fields.time_period ?? fields.budget_duration ?? null;
    if (period !== null) {
      const problem = typeof period === 'string' ? budgetDurationProblem(period, `${param}.time_period`) : `${param}.time_period must be a string`;
      if (problem !== null) throw new AppException('validation_failed', problem, { param: `${param}.time_period` });
    }
    budgets[model] = { budget_limit: limit, time_period: period as string | null };
  }
  return budgets;
}

/** The budget and limit columns under LiteLLM's names, for answers. */
export class UsageLimitsResponseDto {
  @ApiProperty({ example: 0 }) spend: number;
  @ApiProperty({ nullable: true, type: Number, example: 10 }) max_budget: number | null;
  @ApiProperty({ nullable: true, type: Number }) soft_budget: number | null;
  @ApiProperty({ nullable: true, type: String, example: '30d' }) budget_duration: string | null;
  @ApiProperty({ nullable: true, type: String, example: '2026-01-01T00:00:00.000Z' }) budget_reset_at: string | null;
  @ApiProperty({ nullable: true, type: Number }) rpm_limit: number | null;
  @ApiProperty({ nullable: true, type: Number }) tpm_limit: number | null;
  @ApiProperty({ nullable: true, type: Number }) max_parallel_requests: number | null;
  @ApiProperty({ example: {} }) model_max_budget: ModelMaxBudget;
  @ApiProperty({ example: {} }) model_rpm_limit: Record<string, number>;
  @ApiProperty({ example: {} }) model_tpm_limit: Record<string, number>;
  @ApiProperty({ example: {}, description: 'Spend per model since the last reset' }) model_spend: Record<string, number>;
}

export function usageLimitsView(usage: UsageLimits): UsageLimitsResponseDto {
  return {
    spend: usage.spend,
    max_budget: usage.maxBudget,
    soft_budget: usage.softBudget,
    budget_duration: usage.budgetDuration,
    budget_reset_at: usage.budgetResetAt ? usage.budgetResetAt.toISOString() : null,
    rpm_limit: usage.rpmLimit,
    tpm_limit: usage.tpmLimit,
    max_parallel_requests: usage.maxParallelRequests,
    model_max_budget: usage.modelMaxBudget,
    model_rpm_limit: usage.modelRpmLimit,
    model_tpm_limit: usage.modelTpmLimit,
    model_spend: usage.modelSpend,
  };
}

/** LiteLLM shows the per-model limits inside metadata too; scripts read them there. */
export function metadataWithModelLimits(metadata: Record<string, unknown>, usage: UsageLimits): Record<string, unknown> {
  const out = { ...metadata };
  if (Object.keys(usage.modelRpmLimit).length > 0) out.model_rpm_limit = usage.modelRpmLimit;
  if (Object.keys(usage.modelTpmLimit).length > 0) out.model_tpm_limit = usage.modelTpmLimit;
  return out;
}
