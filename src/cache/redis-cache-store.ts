import type { Redis, RedisOptions as IoRedisOptions } from 'ioredis';
import { createRedisClient } from '../common/redis-client';
import { CachedAnswer } from './cached-answer';
import type { RedisOptions } from './cache-options';
import type { CacheStore } from './cache-store';

export interface RedisStoreHooks {
  /** A cache command failed or was skipped because Redis is unreachable. */
  onError(error: Error): void;
  /** Connection state changes, for the log (never per request). */
  onStateChange(message: string, level: 'warn' | 'log'): void;
}

const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Answers shared by every gateway instance, through ioredis. Redis is an optimisation here, never a dependency:
 * commands are not queued while disconnected (`enableOfflineQueue: false`), are retried at most once, and give up
 * after `commandTimeoutMs`, so a dead or hanging Redis costs a request at most that long and the request then
 * goes to the upstream. The client reconnects in the background.
 */
export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis';
  private readonly client: Redis;
  private wasReady = false;
  private closed = false;

  constructor(
    private readonly options: RedisOptions,
    private readonly hooks: RedisStoreHooks,
  ) {
    const common: IoRedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      // Keep trying in the background, but not in a tight loop against a Redis that is down.
      retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
      connectionName: 'gatehouse-cache',
      // On close ioredis waits this long for the socket to end, with a timer that outlives an already closed
      // socket (and so delays process exit); nothing is in flight that a shorter wait could lose.
      disconnectTimeout: 100,
    };
    this.client = createRedisClient(options, common);
    // Without a listener ioredis prints every failed reconnect as an unhandled error event.
    this.client.on('error', (error: Error) => {
      if (this.wasReady) {
        this.wasReady = false;
        hooks.onStateChange(`Redis cache unreachable (${error.message}); requests go on without the cache`, 'warn');
      }
    });
    this.client.on('ready', () => {
      if (!this.wasReady) {
        this.wasReady = true;
        hooks.onStateChange('Redis cache connected', 'log');
      }
    });
  }

  /** ioredis's connection state (`ready`, `reconnecting`, ...), or `closed` once the gateway closed the store. */
  get status(): string {
    return this.closed ? 'closed' : this.client.status;
  }

  /** Waits for the first connection at most the connect timeout; a Redis that is down does not stop the start. */
  async start(): Promise<void> {
    try {
      await this.client.connect();
    } catch (error) {
      this.hooks.onStateChange(
        `Redis cache not reachable at start (${error instanceof Error ? error.message : String(error)}); retrying in the background, requests go on without the cache`,
        'warn',
      );
    }
  }

  get(key: string): Promise<CachedAnswer | null> | null {
    if (this.client.status !== 'ready') {
      // Skipping the command outright is cheaper than letting ioredis reject it, and counts the same.
      this.hooks.onError(new Error(`Redis is ${this.client.status}`));
      return null;
    }
    return this.client.getBuffer(this.options.keyPrefix + key).then(
      (data) => (data === null ? null : CachedAnswer.deserialize(data)),
      (error: unknown) => {
        this.hooks.onError(error instanceof Error ? error : new Error(String(error)));
        return null;
      },
    );
  }

  set(key: string, answer: CachedAnswer, ttlMs: number): void {
    if (this.client.status !== 'ready') {
      this.hooks.onError(new Error(`Redis is ${this.client.status}`));
      return;
    }
    this.client.set(this.options.keyPrefix + key, answer.serialize(), 'PX', Math.max(1, Math.round(ttlMs))).catch((error: unknown) => {
      this.hooks.onError(error instanceof Error ? error : new Error(String(error)));
    });
  }

  close(): Promise<void> {
    // disconnect, not quit: quit waits for a reply that a dead Redis never sends. It also cancels a pending
    // reconnect (ioredis then leaves the status at `reconnecting`, with no timer behind it).
    this.closed = true;
    this.client.disconnect();
    return Promise.resolve();
  }
}
