import type { LimitSet } from '../budgets/usage-limits';
import type { Principal } from '../keys/principal';

/** LiteLLM's descriptor names: they appear in the 429's message and in the `x-ratelimit-<name>-*` headers. */
export type DescriptorName = 'api_key' | 'user' | 'team' | 'model_per_key' | 'model_per_team';

/** LiteLLM's limit types, as the 429 names them (`Limit type: requests`) and the headers end (`-remaining-requests`). */
export type LimitType = 'requests' | 'tokens' | 'max_parallel_requests';

/** One thing counted for a call (a key, its team, its user, a key and model...), with the limits it is held to. */
export interface Descriptor {
  readonly name: DescriptorName;
  /** The key's hash, the team's or user's id, `<key hash or team id>:<model>`: shown in the 429 as LiteLLM shows it. */
  readonly value: string;
  /** Where its counters live: `<name>:<value>` (the model ones escaped), unique across descriptors. */
  readonly counterKey: string;
  readonly rpm: number | null;
  readonly tpm: number | null;
  readonly maxParallel: number | null;
}

/** What one descriptor's counters say, as the limiter read them (after counting the call when it was admitted). */
export interface DescriptorUsage {
  readonly requests: number;
  readonly tokens: number;
  readonly inFlight: number;
  /** Milliseconds until the descriptor's window ends (a whole window when none is open). */
  readonly resetMs: number;
}

/** The first limit a call would break, checked in descriptor order and, per descriptor, requests, tokens, parallel. */
export function refusalOf(descriptor: Descriptor, usage: DescriptorUsage): LimitType | null {
  // rpm_limit=N admits N calls a window; tokens are known only after a call, so a window is closed to new calls
  // once its tokens reached the limit (LiteLLM counts 1 per call before it, then > limit: the same line).
  if (descriptor.rpm !== null && usage.requests + 1 > descriptor.rpm) return 'requests';
  if (descriptor.tpm !== null && usage.tokens >= descriptor.tpm) return 'tokens';
  if (descriptor.maxParallel !== null && usage.inFlight + 1 > descriptor.maxParallel) return 'max_parallel_requests';
  return null;
}

/** A principal's fixed descriptors and its per-model limits, worked out once per cached principal. */
export interface LimitPlan {
  /** api_key, user, team: those with a limit set, in LiteLLM's order. */
  readonly fixed: readonly Descriptor[];
  readonly keyHash: string | null;
  readonly teamId: string | null;
  readonly keyModelRpm: Readonly<Record<string, number>> | null;
  readonly keyModelTpm: Readonly<Record<string, number>> | null;
  readonly teamModelRpm: Readonly<Record<string, number>> | null;
  readonly teamModelTpm: Readonly<Record<string, number>> | null;
}

function descriptorOf(name: DescriptorName, value: string, limits: LimitSet | null, withParallel: boolean): Descriptor | null {
  if (limits === null) return null;
  const maxParallel = withParallel ? limits.maxParallelRequests : null;
  if (limits.rpmLimit === null && limits.tpmLimit === null && maxParallel === null) return null;
  return Object.freeze({ name, value, counterKey: `${name}:${value}`, rpm: limits.rpmLimit, tpm: limits.tpmLimit, maxParallel });
}

/** Null when nothing of the principal is rate limited: the call then costs the limiter nothing more. */
export function planOf(principal: Principal): LimitPlan | null {
  const { key, team, user } = principal.limits;
  const fixed: Descriptor[] = [];
  const add = (descriptor: Descriptor | null) => {
    if (descriptor !== null) fixed.push(descriptor);
  };
  if (principal.keyHash !== null) add(descriptorOf('api_key', principal.keyHash, key, true));
  if (user !== null) add(descriptorOf('user', user.id, user, true));
  if (team !== null) add(descriptorOf('team', team.id, team, true));
  const plan: LimitPlan = {
    fixed,
    keyHash: principal.keyHash,
    teamId: team?.id ?? principal.teamId,
    keyModelRpm: principal.keyHash !== null ? (key?.modelRpmLimit ?? null) : null,
    keyModelTpm: principal.keyHash !== null ? (key?.modelTpmLimit ?? null) : null,
    teamModelRpm: team?.modelRpmLimit ?? null,
    teamModelTpm: team?.modelTpmLimit ?? null,
  };
  const perModel = plan.keyModelRpm !== null || plan.keyModelTpm !== null || plan.teamModelRpm !== null || plan.teamModelTpm !== null;
  return fixed.length > 0 || perModel ? Object.freeze(plan) : null;
}

function limitFor(limits: Readonly<Record<string, number>> | null, model: string): number | null {
  if (limits === null || !Object.hasOwn(limits, model)) return null;
  const limit = limits[model];
  return typeof limit === 'number' && Number.isFinite(limit) ? limit : null;
}

/** The call's descriptors: the plan's fixed ones, plus the key's and the team's limits for the requested model. */
export function descriptorsFor(plan: LimitPlan, model: string): readonly Descriptor[] {
  if (plan.keyModelRpm === null && plan.keyModelTpm === null && plan.teamModelRpm === null && plan.teamModelTpm === null) {
    return plan.fixed;
  }
  let descriptors: Descriptor[] | null = null;
  const add = (name: DescriptorName, owner: string, rpm: number | null, tpm: number | null) => {
    if (rpm === null && tpm === null) return;
    descriptors ??= [...plan.fixed];
    // The counter's name escapes both parts: a team id with a colon must not meet another team's model.
    const counterKey = `${name}:${encodeURIComponent(owner)}:${encodeURIComponent(model)}`;
    descriptors.push({ name, value: `${owner}:${model}`, counterKey, rpm, tpm, maxParallel: null });
  };
  if (plan.keyHash !== null) add('model_per_key', plan.keyHash, limitFor(plan.keyModelRpm, model), limitFor(plan.keyModelTpm, model));
  if (plan.teamId !== null) add('model_per_team', plan.teamId, limitFor(plan.teamModelRpm, model), limitFor(plan.teamModelTpm, model));
  return descriptors ?? plan.fixed;
}
