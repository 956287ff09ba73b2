import type { Redis, RedisOptions as IoRedisOptions } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { createRedisClient } from '../common/redis-client';
import type { RedisConnection } from '../config/redis-environment';
import type { LimitDecision } from './memory-limiter';
import type { Descriptor, DescriptorUsage, LimitType } from './rate-limit-descriptors';

const PREFIX = 'gatehouse:ratelimit:';
/** A slot of a call in flight lives this long unless its instance renews it: what a crashed instance holds is freed. */
export const SLOT_TTL_MS = 60_000;
const SLOT_RENEW_MS = SLOT_TTL_MS / 3;
const COMMAND_TIMEOUT_MS = 500;
const MAX_RECONNECT_DELAY_MS = 2000;

const REFUSAL_TYPES: readonly (LimitType | null)[] = [null, 'requests', 'tokens', 'max_parallel_requests'];

/**
 * Checks every descriptor of a call and counts the call only when all admit it, in one round trip. Windows are
 * hashes (`r` requests, `t` tokens) created with the window as their PEXPIRE, so a window starts at its first call
 * and ends on the server's clock; calls in flight are members of a sorted set scored by when their slot lapses.
 * KEYS: per descriptor, its window then its in-flight set. ARGV: window ms, slot ttl ms, the call's slot member,
 * then per descriptor its rpm, tpm and parallel limits (-1: none). Returns the refusing descriptor (1-based, 0:
 * admitted) and type (1 requests, 2 tokens, 3 parallel), then requests, tokens, in flight and window ms left per descriptor.
 */
const ACQUIRE_SCRIPT = `
local windowMs = tonumber(ARGV[1])
local slotTtl = tonumber(ARGV[2])
local member = ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local count = #KEYS / 2
local out = {0, 0}
local refusedAt, refusedType = 0, 0
for i = 1, count do
  local window, slots = KEYS[2 * i - 1], KEYS[2 * i]
  local rpm, tpm, parallel = tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3])
  local requests, tokens, left, inFlight = 0, 0, windowMs, 0
  if rpm >= 0 or tpm >= 0 then
    local ttl = redis.call('PTTL', window)
    if ttl > 0 then
      local values = redis.call('HMGET', window, 'r', 't')
      requests = tonumber(values[1]) or 0
      tokens = tonumber(values[2]) or 0
      left = ttl
    end
  end
  if parallel >= 0 then
    redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
    inFlight = redis.call('ZCARD', slots)
  end
  if refusedAt == 0 then
    if rpm >= 0 and requests + 1 > rpm then refusedAt, refusedType = i, 1
    elseif tpm >= 0 and tokens >= tpm then refusedAt, refusedType = i, 2
    elseif parallel >= 0 and inFlight + 1 > parallel then refusedAt, refusedType = i, 3 end
  end
  out[4 * i - 1], out[4 * i], out[4 * i + 1], out[4 * i + 2] = requests, tokens, inFlight, left
end
if refusedAt == 0 then
  for i = 1, count do
    local window, slots = KEYS[2 * i - 1], KEYS[2 * i]
    local rpm, tpm, parallel = tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3])
    if rpm >= 0 or tpm >= 0 then
      if redis.call('PTTL', window) > 0 then
        out[4 * i - 1] = redis.call('HINCRBY', window, 'r', 1)
      else
        redis.call('HSET', window, 'r', 1, 't', 0)
        redis.call('PEXPIRE', window, windowMs)
        out[4 * i - 1] = 1
      end
    end
    if parallel >= 0 then
      redis.call('ZADD', slots, now + slotTtl, member)
      redis.call('PEXPIRE', slots, slotTtl)
      out[4 * i + 1] = out[4 * i + 1] + 1
    end
  end
end
out[1], out[2] = refusedAt, refusedType
return out
`;

/**
 * The call is over. KEYS as for acquire. ARGV: window ms, the call's slot member, its tokens, then per descriptor
 * whether its tokens count (1/0) and whether it holds a slot (1/0). Tokens go to the live window, or open one.
 */
const RELEASE_SCRIPT = `
local windowMs = tonumber(ARGV[1])
local member = ARGV[2]
local tokens = tonumber(ARGV[3])
for i = 1, #KEYS / 2 do
  if ARGV[2 * i + 2] == '1' and tokens > 0 then
    local window = KEYS[2 * i - 1]
    if redis.call('PTTL', window) > 0 then
      redis.call('HINCRBY', window, 't', tokens)
    else
      redis.call('HSET', window, 'r', 0, 't', tokens)
      redis.call('PEXPIRE', window, windowMs)
    end
  end
  if ARGV[2 * i + 3] == '1' then redis.call('ZREM', KEYS[2 * i], member) end
end
return 1
`;

/** Calls still running: their slots get a new lapse time. KEYS: in-flight sets. ARGV: slot ttl ms, then each set's member. */
const RENEW_SCRIPT = `
local slotTtl = tonumber(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + slotTtl, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], slotTtl)
end
return 1
`;

type Argument = string | number;

/** The scripts as ioredis commands (EVALSHA, loaded on first use); the key count comes first. */
interface LimiterCommands {
  rateLimitAcquire(keyCount: number, ...args: Argument[]): Promise<number[]>;
  rateLimitRelease(keyCount: number, ...args: Argument[]): Promise<number>;
  rateLimitRenew(keyCount: number, ...args: Argument[]): Promise<number>;
}

/** A call admitted through Redis: what to undo and count when it is over. */
export interface SharedSlot {
  readonly member: string;
  readonly descriptors: readonly Descriptor[];
}

/**
 * Rate-limit counters shared by every instance through one Redis, exact across them: each call is one EVALSHA
 * that checks and counts all its descriptors atomically (a refused call counts nowhere). Windows run on the
 * Redis server's clock (PEXPIRE), not on the instances'. Never queued while disconnected: the service falls back
 * to its in-memory counters when `ready` is false or a command fails.
 */
export class RedisLimiter {
  private readonly client: Redis;
  private readonly commands: LimiterCommands;
  private readonly instance = randomUUID();
  private sequence = 0;
  /** Slots of calls in flight on this instance, renewed so a long stream keeps its slot. */
  private readonly held = new Map<string, readonly string[]>();
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    connection: RedisConnection,
    readonly windowMs: number,
    hooks: { onError(error: Error): void; onReady(): void },
  ) {
    const options: IoRedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
      // The socket's end is not waited for on close: nothing in flight needs it, and the timer would delay exit.
      disconnectTimeout: 100,
      connectionName: 'gatehouse-ratelimit',
    };
    this.client = createRedisClient(connection, options);
    this.client.on('error', (error: Error) => hooks.onError(error));
    this.client.on('ready', () => hooks.onReady());
    this.client.defineCommand('rateLimitAcquire', { lua: ACQUIRE_SCRIPT });
    this.client.defineCommand('rateLimitRelease', { lua: RELEASE_SCRIPT });
    this.client.defineCommand('rateLimitRenew', { lua: RENEW_SCRIPT });
    this.commands = this.client as unknown as LimiterCommands;
    this.renewTimer = setInterval(() => this.renew(), SLOT_RENEW_MS);
    this.renewTimer.unref();
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** A Redis that is down does not stop the start: the service counts in memory until it is reachable. */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  close(): void {
    clearInterval(this.renewTimer);
    this.client.disconnect();
  }

  async acquire(descriptors: readonly Descriptor[]): Promise<{ decision: LimitDecision; slot: SharedSlot }> {
    const member = `${this.instance}:${++this.sequence}`;
    const args: Argument[] = [];
    for (const descriptor of descriptors) args.push(windowKey(descriptor), slotsKey(descriptor));
    args.push(this.windowMs, SLOT_TTL_MS, member);
    for (const descriptor of descriptors) args.push(descriptor.rpm ?? -1, descriptor.tpm ?? -1, descriptor.maxParallel ?? -1);
    const out = await this.commands.rateLimitAcquire(descriptors.length * 2, ...args);
    const usage: DescriptorUsage[] = [];
    for (let index = 0; index < descriptors.length; index++) {
      const at = 2 + 4 * index;
      usage.push({ requests: out[at], tokens: out[at + 1], inFlight: out[at + 2], resetMs: out[at + 3] });
    }
    const refusedAt = out[0] - 1;
    const slot: SharedSlot = { member, descriptors };
    if (refusedAt === -1) {
      const slotKeys = descriptors.filter((descriptor) => descriptor.maxParallel !== null).map(slotsKey);
      if (slotKeys.length > 0) this.held.set(member, slotKeys);
    }
    return { decision: { refusedAt, refusedType: REFUSAL_TYPES[out[1]] ?? null, usage }, slot };
  }

  async release(slot: SharedSlot, tokens: number): Promise<void> {
    this.held.delete(slot.member);
    const args: Argument[] = [];
    for (const descriptor of slot.descriptors) args.push(windowKey(descriptor), slotsKey(descriptor));
    args.push(this.windowMs, slot.member, Math.max(0, Math.round(tokens)));
    for (const descriptor of slot.descriptors) args.push(descriptor.tpm !== null ? 1 : 0, descriptor.maxParallel !== null ? 1 : 0);
    await this.commands.rateLimitRelease(slot.descriptors.length * 2, ...args);
  }

  private renew(): void {
    if (this.held.size === 0 || !this.ready) return;
    const keys: string[] = [];
    const members: string[] = [];
    for (const [member, slotKeys] of this.held) {
      for (const key of slotKeys) {
        keys.push(key);
        members.push(member);
      }
    }
    // A lost renewal costs nothing until the slot's lapse time; the next one comes within a third of it.
    this.commands.rateLimitRenew(keys.length, ...keys, SLOT_TTL_MS, ...members).catch(() => undefined);
  }
}

function windowKey(descriptor: Descriptor): string {
  return `${PREFIX}${descriptor.counterKey}:window`;
}

function slotsKey(descriptor: Descriptor): string {
  return `${PREFIX}${descriptor.counterKey}:parallel`;
}
