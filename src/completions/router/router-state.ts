import type { Logger } from '@nestjs/common';
import Redis, { type RedisOptions } from 'ioredis';

/** How a deployment's cooldowns are decided; times in milliseconds. */
export interface CooldownPolicy {
  /** Failures a deployment may have in one minute; the next one cools it down (LiteLLM: `fails > allowed_fails`). */
  readonly allowedFails: number;
  readonly cooldownMs: number;
}

/** A deployment's use in the current minute, for usage-based routing. */
export interface MinuteUsage {
  readonly tokens: number;
  readonly requests: number;
}

/**
 * Routing state that every gateway instance must agree on: cooldowns, and for usage-based routing the tokens and
 * requests each deployment served this minute. `isCoolingDown` is read on every call, so it never waits: each
 * instance keeps the cooldowns it knows of in memory (Redis tells it of the others').
 */
export interface RouterState {
  /** Number of cooldowns in force, so the common "none" case costs one comparison. */
  readonly activeCooldowns: number;
  isCoolingDown(modelId: string, now: number): boolean;
  /** A failure that counts; resolves once a cooldown it caused is in force on this instance. */
  recordFailure(modelId: string, policy: CooldownPolicy): Promise<void>;
  recordUsage(modelId: string, tokens: number, requests: number): void;
  usage(modelIds: readonly string[]): Promise<MinuteUsage[]>;
  start(modelIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

function currentMinute(now: number): number {
  return Math.floor(now / 60_000);
}

/** The in-process state: cooldowns and per-minute counters in maps. Also the local half of the Redis state. */
export class LocalRouterState implements RouterState {
  private readonly cooldowns = new Map<string, number>();
  private readonly failures = new Map<string, { minute: number; count: number }>();
  private readonly usageByMinute = new Map<string, { minute: number; tokens: number; requests: number }>();

  get activeCooldowns(): number {
    return this.cooldowns.size;
  }

  isCoolingDown(modelId: string, now: number): boolean {
    const until = this.cooldowns.get(modelId);
    if (until === undefined) return false;
    if (until > now) return true;
    this.cooldowns.delete(modelId);
    return false;
  }

  coolDown(modelId: string, ms: number): void {
    this.cooldowns.set(modelId, Date.now() + ms);
  }

  recordFailure(modelId: string, policy: CooldownPolicy): Promise<void> {
    const count = this.countFailure(modelId);
    if (count > policy.allowedFails) {
      this.coolDown(modelId, policy.cooldownMs);
      this.failures.delete(modelId);
    }
    return Promise.resolve();
  }

  countFailure(modelId: string): number {
    const minute = currentMinute(Date.now());
    const entry = this.failures.get(modelId);
    if (entry === undefined || entry.minute !== minute) {
      this.failures.set(modelId, { minute, count: 1 });
      return 1;
    }
    return ++entry.count;
  }

  recordUsage(modelId: string, tokens: number, requests: number): void {
    const minute = currentMinute(Date.now());
    const entry = this.usageByMinute.get(modelId);
    if (entry === undefined || entry.minute !== minute) {
      this.usageByMinute.set(modelId, { minute, tokens, requests });
    } else {
      entry.tokens += tokens;
      entry.requests += requests;
    }
  }

  usage(modelIds: readonly string[]): Promise<MinuteUsage[]> {
    return Promise.resolve(this.usageNow(modelIds));
  }

  usageNow(modelIds: readonly string[]): MinuteUsage[] {
    const minute = currentMinute(Date.now());
    return modelIds.map((id) => {
      const entry = this.usageByMinute.get(id);
      return entry === undefined || entry.minute !== minute ? { tokens: 0, requests: 0 } : { tokens: entry.tokens, requests: entry.requests };
    });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const PREFIX = 'gatehouse:router:';
const CHANNEL = `${PREFIX}cooldowns`;
/** Per-minute counters outlive their minute a little, for instances whose clocks differ by a few seconds. */
const COUNTER_TTL_SECONDS = 120;
const COMMAND_TIMEOUT_MS = 500;

/**
 * Cooldowns and usage shared through Redis. A cooldown is a key with the cooldown as its expiry, announced on a
 * pub/sub channel so every instance holds it in memory within milliseconds; an instance that starts later reads the
 * keys. Failures are counted per deployment and minute with INCR, so `allowed_fails` counts every instance's
 * failures. When Redis is unreachable the instance goes on with what it knows alone (the local state).
 */
export class RedisRouterState implements RouterState {
  private readonly local = new LocalRouterState();
  private readonly client: Redis;
  private readonly subscriber: Redis;

  constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      disconnectTimeout: 100,
      connectionName: 'gatehouse-router',
    };
    this.client = new Redis(url, options);
    // The subscriber must queue its SUBSCRIBE while (re)connecting, and re-subscribes on its own.
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    for (const client of [this.client, this.subscriber]) client.on('error', (error: Error) => logger.warn(`router Redis: ${error.message}`));
    this.subscriber.on('message', (_channel: string, payload: string) => this.receive(payload));
  }

  get activeCooldowns(): number {
    return this.local.activeCooldowns;
  }

  isCoolingDown(modelId: string, now: number): boolean {
    return this.local.isCoolingDown(modelId, now);
  }

  async recordFailure(modelId: string, policy: CooldownPolicy): Promise<void> {
    let count: number;
    try {
      const key = `${PREFIX}fails:${modelId}:${currentMinute(Date.now())}`;
      const results = await this.client.multi().incr(key).expire(key, COUNTER_TTL_SECONDS).exec();
      count = Number(results?.[0]?.[1] ?? this.local.countFailure(modelId));
    } catch {
      count = this.local.countFailure(modelId);
    }
    if (count <= policy.allowedFails) return;
    this.local.coolDown(modelId, policy.cooldownMs);
    try {
      await this.client
        .multi()
        .set(`${PREFIX}cooldown:${modelId}`, String(policy.cooldownMs), 'PX', policy.cooldownMs)
        .publish(CHANNEL, JSON.stringify({ id: modelId, ms: policy.cooldownMs }))
        .exec();
    } catch (error) {
      this.logger.warn(`could not share a cooldown through Redis: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  recordUsage(modelId: string, tokens: number, requests: number): void {
    this.local.recordUsage(modelId, tokens, requests);
    const minute = currentMinute(Date.now());
    const tokensKey = `${PREFIX}tpm:${modelId}:${minute}`;
    const requestsKey = `${PREFIX}rpm:${modelId}:${minute}`;
    this.client
      .multi()
      .incrby(tokensKey, tokens)
      .expire(tokensKey, COUNTER_TTL_SECONDS)
      .incrby(requestsKey, requests)
      .expire(requestsKey, COUNTER_TTL_SECONDS)
      .exec()
      .catch(() => undefined);
  }

  async usage(modelIds: readonly string[]): Promise<MinuteUsage[]> {
    const minute = currentMinute(Date.now());
    const keys = modelIds.flatMap((id) => [`${PREFIX}tpm:${id}:${minute}`, `${PREFIX}rpm:${id}:${minute}`]);
    try {
      const values = await this.client.mget(keys);
      return modelIds.map((_, index) => ({ tokens: Number(values[2 * index] ?? 0), requests: Number(values[2 * index + 1] ?? 0) }));
    } catch {
      return this.local.usageNow(modelIds);
    }
  }

  /** Connects and takes over the cooldowns already in force; a Redis that is down does not stop the start. */
  async start(modelIds: readonly string[]): Promise<void> {
    try {
      await Promise.all([this.client.connect(), this.subscriber.connect()]);
      await this.subscriber.subscribe(CHANNEL);
      if (modelIds.length === 0) return;
      const pipeline = this.client.pipeline();
      for (const id of modelIds) pipeline.pttl(`${PREFIX}cooldown:${id}`);
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([error, ttl], index) => {
        if (error === null && typeof ttl === 'number' && ttl > 0) this.local.coolDown(modelIds[index], ttl);
      });
      this.logger.log('router state (cooldowns, usage) shared through Redis');
    } catch (error) {
      this.logger.warn(`router Redis not reachable at start (${error instanceof Error ? error.message : String(error)}); cooldowns stay per instance until it is`);
    }
  }

  close(): Promise<void> {
    this.client.disconnect();
    this.subscriber.disconnect();
    return Promise.resolve();
  }

  private receive(payload: string): void {
    let message: { id?: unknown; ms?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    // The duration travels, not the end time, so instances whose clocks differ still agree.
    if (typeof message.id === 'string' && typeof message.ms === 'number' && message.ms > 0) this.local.coolDown(message.id, message.ms);
  }
}
