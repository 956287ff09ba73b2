import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { readCacheOptions } from '../cache/cache-options';
import { Clock } from '../common/clock';
import type { RateLimitHeaderMode } from '../config/environment';
import { GatewaySettings } from '../config/gateway-settings';
import { environmentRedis, type RedisConnection } from '../config/redis-environment';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { LlmMetrics } from '../metrics/llm-metrics';
import { MemoryLimiter, type LimitDecision } from './memory-limiter';
import { descriptorsFor, planOf, type Descriptor, type DescriptorName, type LimitPlan, type LimitType } from './rate-limit-descriptors';
import { RedisLimiter, type SharedSlot } from './redis-limiter';

/** A call the limiter let through: told of its end, with the tokens it used. */
export interface RateLimitTicket {
  release(totalTokens: number): void;
}

const DEFAULT_WINDOW_SECONDS = 60;

/** A call whose key has a limit of its own for the model: the limiter's decision feeds LiteLLM's remaining gauges. */
interface Gauged {
  readonly principal: Principal;
  readonly model: string;
}
/** Injection token of the success-header mode, for unit specs (the app reads RATE_LIMIT_HEADERS). */
export const RATE_LIMIT_HEADER_MODE = Symbol('RATE_LIMIT_HEADER_MODE');
/** At most one "Redis unreachable" line this often: a dead Redis must not flood the log at request rate. */
const WARNING_INTERVAL_MS = 30_000;

class MemoryTicket implements RateLimitTicket {
  private released = false;

  constructor(
    private readonly limiter: MemoryLimiter,
    private readonly descriptors: readonly Descriptor[],
  ) {}

  release(totalTokens: number): void {
    if (this.released) return;
    this.released = true;
    this.limiter.release(this.descriptors, totalTokens);
  }
}

class SharedTicket implements RateLimitTicket {
  private released = false;

  constructor(
    private readonly limiter: RedisLimiter,
    private readonly slot: SharedSlot,
    private readonly onError: (error: unknown) => void,
  ) {}

  release(totalTokens: number): void {
    if (this.released) return;
    this.released = true;
    // Off the request path; a lost release frees its slots when they lapse (SLOT_TTL_MS) and loses its tokens.
    this.limiter.release(this.slot, totalTokens).catch(this.onError);
  }
}

/**
 * rpm, tpm and parallel-request limits of keys, teams and users (and per model). `acquire` counts the call or
 * throws LiteLLM's 429, and sets the `x-ratelimit-*` headers on `res`; null when no limit applies to the caller.
 *
 * LiteLLM's v3 limiter: fixed windows of LITELLM_RATE_LIMIT_WINDOW_SIZE seconds (60) anchored at each
 * descriptor's first call; descriptors api_key, user, team, model_per_key and model_per_team. Unlike LiteLLM, a
 * call is counted everywhere or nowhere: a refused call uses up no limit. Counters are in this process's memory,
 * or in Redis when one is configured (exact across instances); when that Redis is unreachable each instance
 * counts in memory (LiteLLM's fallback too) and says so in the log.
 */
@Injectable()
export class RateLimitService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimits');
  /** Principals are cached (30 s) and frozen: their plan is worked out once per principal object. */
  private readonly plans = new WeakMap<Principal, LimitPlan | null>();
  private readonly memory: MemoryLimiter;
  private readonly shared: RedisLimiter | null;
  private readonly windowMs: number;
  private readonly successHeaders: RateLimitHeaderMode;
  private lastWarningAt = -Infinity;
  private unshared = false;

  constructor(
    @Inject(Clock) private readonly clock: Clock,
    // Optional for unit specs: without settings, in-memory counters and the default window.
    @Optional() @Inject(GatewaySettings) settings: GatewaySettings | null = null,
    // Unit specs choose the success headers without building settings.
    @Optional() @Inject(RATE_LIMIT_HEADER_MODE) headerMode: RateLimitHeaderMode | null = null,
    @Optional() @Inject(LlmMetrics) private readonly metrics: LlmMetrics | null = null,
  ) {
    this.windowMs = (settings?.environment.LITELLM_RATE_LIMIT_WINDOW_SIZE ?? DEFAULT_WINDOW_SECONDS) * 1000;
    this.successHeaders = headerMode ?? settings?.environment.RATE_LIMIT_HEADERS ?? 'openai';
    this.memory = new MemoryLimiter(() => clock.now(), this.windowMs);
    const redis = settings !== null ? limiterRedis(settings) : null;
    this.shared =
      redis !== null
        ? new RedisLimiter(redis, this.windowMs, { onError: (error) => this.warnUnshared(error), onReady: () => this.sharedAgain() })
        : null;
  }

  async onModuleInit(): Promise<void> {
    if (this.shared === null) return;
    try {
      await this.shared.connect();
    } catch (error) {
      this.warnUnshared(error);
    }
  }

  onApplicationShutdown(): void {
    this.shared?.close();
  }

  /** Where the counters are: `redis` when shared right now, else `memory`. */
  get backend(): 'redis' | 'memory' {
    return this.shared?.ready === true ? 'redis' : 'memory';
  }

  acquire(principal: Principal, model: string, res: ServerResponse): RateLimitTicket | null | Promise<RateLimitTicket | null> {
    const limits = principal.limits;
    if (limits.key === null && limits.team === null && limits.user === null) return null;
    let plan = this.plans.get(principal);
    if (plan === undefined) {
      plan = planOf(principal);
      this.plans.set(principal, plan);
    }
    if (plan === null) return null;
    const descriptors = descriptorsFor(plan, model);
    if (descriptors.length === 0) return null;
    // Only a key's own limit for this model has LiteLLM's remaining-for-model gauges.
    const gauged = descriptors !== plan.fixed && this.metrics !== null ? { principal, model } : null;
    if (this.shared?.ready === true) return this.acquireShared(this.shared, descriptors, res, gauged);
    if (this.shared !== null) this.warnUnshared('not connected');
    return this.acquireInMemory(descriptors, res, gauged);
  }

  private acquireInMemory(descriptors: readonly Descriptor[], res: ServerResponse, gauged: Gauged | null): RateLimitTicket {
    const decision = this.memory.acquire(descriptors);
    if (gauged !== null) this.gauge(gauged, descriptors, decision);
    this.answer(descriptors, decision, res);
    return new MemoryTicket(this.memory, descriptors);
  }

  private async acquireShared(shared: RedisLimiter, descriptors: readonly Descriptor[], res: ServerResponse, gauged: Gauged | null): Promise<RateLimitTicket> {
    let acquired: Awaited<ReturnType<RedisLimiter['acquire']>>;
    try {
      acquired = await shared.acquire(descriptors);
    } catch (error) {
      this.warnUnshared(error);
      return this.acquireInMemory(descriptors, res, gauged);
    }
    if (gauged !== null) this.gauge(gauged, descriptors, acquired.decision);
    this.answer(descriptors, acquired.decision, res);
    return new SharedTicket(shared, acquired.slot, (error) => this.warnUnshared(error));
  }

  /** What the key's model-specific limits have left after this call was counted (or refused). */
  private gauge({ principal, model }: Gauged, descriptors: readonly Descriptor[], decision: LimitDecision): void {
    const index = descriptors.findIndex((descriptor) => descriptor.name === 'model_per_key');
    if (index < 0) return;
    const { rpm, tpm } = descriptors[index];
    const usage = decision.usage[index];
    this.metrics?.rateLimitRemaining(
      principal,
      model,
      rpm === null ? null : Math.max(0, rpm - usage.requests),
      tpm === null ? null : Math.max(0, tpm - usage.tokens),
    );
  }

  /** Sets the success headers, or throws the 429 (nothing was counted then). */
  private answer(descriptors: readonly Descriptor[], decision: LimitDecision, res: ServerResponse): void {
    if (decision.refusedAt === -1) {
      // Each header costs the call about half a microsecond in Node, and LiteLLM's set is up to two dozen.
      if (this.successHeaders === 'none') return;
      const headers = rateLimitHeaders(descriptors, decision, this.successHeaders === 'litellm');
      for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i], headers[i + 1]);
      return;
    }
    const headers = rateLimitHeaders(descriptors, decision, true);
    const descriptor = descriptors[decision.refusedAt];
    const usage = decision.usage[decision.refusedAt];
    const type = decision.refusedType ?? 'requests';
    // A parallel slot frees when some call ends, not at a window's end: retry soon.
    const waitMs = type === 'max_parallel_requests' ? 1000 : usage.resetMs;
    const resetAt = formatUtc(this.clock.now() + waitMs);
    const limit = (type === 'requests' ? descriptor.rpm : type === 'tokens' ? descriptor.tpm : descriptor.maxParallel) ?? 0;
    const used = type === 'requests' ? usage.requests : type === 'tokens' ? usage.tokens : usage.inFlight;
    throw new AppException(
      'rate_limited',
      `Rate limit exceeded for ${descriptor.name}: ${descriptor.value}. Limit type: ${type}. Current limit: ${limit}, Remaining: ${Math.max(0, limit - used)}. Limit resets at: ${resetAt}`,
      { headers: { ...Object.fromEntries(pairs(headers)), 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))), rate_limit_type: type, reset_at: resetAt } },
    );
  }

  private sharedAgain(): void {
    this.logger.log(this.unshared ? 'rate limits: Redis reachable again; counters shared again' : 'rate-limit counters shared through Redis');
    this.unshared = false;
  }

  private warnUnshared(error: unknown): void {
    this.unshared = true;
    const now = Date.now();
    if (now - this.lastWarningAt < WARNING_INTERVAL_MS) return;
    this.lastWarningAt = now;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`rate limits: Redis unreachable (${reason}); each instance counts in its own memory until it is back, so limits hold per instance`);
  }
}

/**
 * The Redis LiteLLM's limiter would share: the cache's (`litellm_settings.cache_params`, which layers over the
 * REDIS_* variables), else the gateway's own (REDIS_URL, or REDIS_HOST with REDIS_PORT...).
 */
function limiterRedis(settings: GatewaySettings): RedisConnection | null {
  try {
    const cache = readCacheOptions(settings.config.litellmSettings, settings.environment, process.env);
    if (cache.redis !== null) return cache.redis;
  } catch {
    // A broken cache_params stops the start in the cache module, which says why.
  }
  return environmentRedis(settings.environment);
}

const DESCRIPTOR_NAMES: readonly DescriptorName[] = ['api_key', 'user', 'team', 'model_per_key', 'model_per_team'];
const LIMIT_TYPES: readonly LimitType[] = ['requests', 'tokens', 'max_parallel_requests'];

/** `x-ratelimit-<descriptor>-remaining-<type>` and `-limit-<type>`, built once rather than per call. */
const HEADER_NAMES = Object.fromEntries(
  DESCRIPTOR_NAMES.map((name) => [
    name,
    Object.fromEntries(LIMIT_TYPES.map((type) => [type, { remaining: `x-ratelimit-${name}-remaining-${type}`, limit: `x-ratelimit-${name}-limit-${type}` }])),
  ]),
) as Record<DescriptorName, Record<LimitType, { remaining: string; limit: string }>>;

const GENERIC_HEADER_NAMES = ['x-ratelimit-remaining-requests', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-tokens', 'x-ratelimit-limit-tokens'];

/** Every header the limiter may set, on a call it lets through or on its 429 (for CORS's list of readable headers). */
export function allRateLimitHeaderNames(): string[] {
  const perDescriptor = Object.values(HEADER_NAMES).flatMap((byType) => Object.values(byType).flatMap(({ remaining, limit }) => [remaining, limit]));
  return [...GENERIC_HEADER_NAMES, ...perDescriptor, 'rate_limit_type', 'reset_at'];
}

/**
 * LiteLLM's per-descriptor headers (`x-ratelimit-api_key-remaining-requests`, `-limit-tokens`...) and OpenAI's
 * generic ones (`x-ratelimit-remaining-requests`...), which carry the tightest of the call's limits of that kind.
 * Without `perDescriptor` only the generic ones. A flat name, value, name, value... list: it costs less to build and
 * walk than an object with two dozen keys.
 */
export function rateLimitHeaders(descriptors: readonly Descriptor[], decision: LimitDecision, perDescriptor: boolean): string[] {
  const headers: string[] = [];
  let requestsLimit = -1;
  let requestsRemaining = Infinity;
  let tokensLimit = -1;
  let tokensRemaining = Infinity;
  for (let index = 0; index < descriptors.length; index++) {
    const descriptor = descriptors[index];
    const usage = decision.usage[index];
    const names = HEADER_NAMES[descriptor.name];
    if (descriptor.rpm !== null) {
      const remaining = Math.max(0, descriptor.rpm - usage.requests);
      if (perDescriptor) headers.push(names.requests.remaining, String(remaining), names.requests.limit, String(descriptor.rpm));
      if (remaining < requestsRemaining) {
        requestsLimit = descriptor.rpm;
        requestsRemaining = remaining;
      }
    }
    if (descriptor.tpm !== null) {
      const remaining = Math.max(0, descriptor.tpm - usage.tokens);
      if (perDescriptor) headers.push(names.tokens.remaining, String(remaining), names.tokens.limit, String(descriptor.tpm));
      if (remaining < tokensRemaining) {
        tokensLimit = descriptor.tpm;
        tokensRemaining = remaining;
      }
    }
    if (perDescriptor && descriptor.maxParallel !== null) {
      const parallel = names.max_parallel_requests;
      headers.push(parallel.remaining, String(Math.max(0, descriptor.maxParallel - usage.inFlight)), parallel.limit, String(descriptor.maxParallel));
    }
  }
  if (requestsLimit >= 0) headers.push('x-ratelimit-remaining-requests', String(requestsRemaining), 'x-ratelimit-limit-requests', String(requestsLimit));
  if (tokensLimit >= 0) headers.push('x-ratelimit-remaining-tokens', String(tokensRemaining), 'x-ratelimit-limit-tokens', String(tokensLimit));
  return headers;
}

function* pairs(list: readonly string[]): Generator<[string, string]> {
  for (let i = 0; i < list.length; i += 2) yield [list[i], list[i + 1]];
}

/** LiteLLM's `Limit resets at` format: `2025-01-31 12:34:56 UTC`. */
function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
