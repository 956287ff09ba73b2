import type { CachedAnswer } from './cached-answer';
import { LruCache, type LruLimits } from './lru-cache';

/**
 * Where cached answers live. `get` is synchronous for the in-process store, so a local hit never waits for a
 * promise; a remote store returns one. Neither ever throws into a request: a failing store counts the error
 * and behaves as a miss.
 */
export interface CacheStore {
  readonly kind: 'local' | 'redis';
  get(key: string): CachedAnswer | null | Promise<CachedAnswer | null>;
  /** Fire and forget: the caller already has its answer. */
  set(key: string, answer: CachedAnswer, ttlMs: number): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** One process's memory, bounded in entries and bytes. */
export class LocalCacheStore implements CacheStore {
  readonly kind = 'local';
  private readonly lru: LruCache<CachedAnswer>;

  constructor(limits: LruLimits) {
    this.lru = new LruCache(limits);
  }

  get(key: string): CachedAnswer | null {
    return this.lru.get(key) ?? null;
  }

  set(key: string, answer: CachedAnswer, ttlMs: number): void {
    this.lru.set(key, answer, answer.size, ttlMs);
  }

  get entries(): number {
    return this.lru.size;
  }

  async start(): Promise<void> {}

  close(): Promise<void> {
    this.lru.clear();
    return Promise.resolve();
  }
}
