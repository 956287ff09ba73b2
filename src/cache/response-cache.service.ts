import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { TeamDefaultSettings } from '../config/gateway-config.types';
import type { Principal } from '../keys/principal';
import type { MetricsService } from '../metrics/metrics.service';
import { cacheKey, type CacheEndpoint } from './cache-key';
import type { CacheOptions } from './cache-options';
import {
  checkRequestCacheObject,
  NO_CONTROLS,
  readRequestControls,
  resolveCallerSettings,
  type CallerCacheSettings,
  type RequestControls,
} from './cache-policy';
import type { CacheStore } from './cache-store';
import type { CachedAnswer } from './cached-answer';

/** What the cache does for one request, decided before anything is sent upstream. */
export interface CachePlan {
  /** Also the `x-litellm-cache-key` header and the record's `cache_key`. */
  readonly key: string;
  /** May the answer come from the cache (false with no-cache). */
  readonly read: boolean;
  /** May a fresh answer be stored (false with no-store). */
  readonly write: boolean;
  readonly ttlMs: number;
  /** `s-maxage`: only cached answers at most this old count. */
  readonly maxAgeMs: number | null;
}

type Counter = { inc(): void };

/**
 * The exact-match response cache of /v1/chat/completions and /v1/embeddings. The request path asks `plan`
 * first: for a caller whose caching is off it answers null after one WeakMap lookup, without hashing anything.
 */
export class ResponseCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ResponseCache');
  /**
   * Settings per principal object. The principal cache hands out the same frozen object until the key or team
   * changes (then a new one), so this never serves settings older than the principal itself.
   */
  private readonly callers = new WeakMap<Principal, CallerCacheSettings>();
  private readonly teamEntries: ReadonlyMap<string, Pick<TeamDefaultSettings, 'cache' | 'cache_ttl'>>;
  private readonly hits: Counter;
  private readonly misses: Counter;
  private readonly stores: Counter;
  private readonly errors: Counter;

  constructor(
    private readonly options: CacheOptions,
    teamSettings: readonly TeamDefaultSettings[],
    readonly store: CacheStore,
    metrics: MetricsService | null,
  ) {
    this.teamEntries = new Map(teamSettings.map((entry) => [entry.team_id, entry]));
    const none: Counter = { inc: () => undefined };
    // Bound children: labelled inc() would hash the label set on every request.
    this.hits = metrics?.cacheEvents.labels('hit') ?? none;
    this.misses = metrics?.cacheEvents.labels('miss') ?? none;
    this.stores = metrics?.cacheEvents.labels('store') ?? none;
    this.errors = metrics?.cacheEvents.labels('error') ?? none;
  }

  /** Counts a failed cache command; the store calls it and the request carries on without the cache. */
  readonly countError = (): void => {
    this.errors.inc();
  };

  async onModuleInit(): Promise<void> {
    await this.store.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.store.close();
  }

  settingsFor(principal: Principal): CallerCacheSettings {
    let settings = this.callers.get(principal);
    if (settings === undefined) {
      settings = resolveCallerSettings(principal, this.options, this.teamEntries);
      this.callers.set(principal, settings);
    }
    return settings;
  }

  /**
   * Null when the cache has nothing to do for this request. Throws 403 for a cache control the key may not use
   * (checked even when caching is off, as LiteLLM does) and 400 for a malformed one.
   */
  plan(principal: Principal, body: Readonly<Record<string, unknown>>, headers: IncomingHttpHeaders, endpoint: CacheEndpoint): CachePlan | null {
    const settings = this.settingsFor(principal);
    const requested = body.cache;
    if (!settings.enabled || !this.options.endpoints.has(endpoint)) {
      if (requested !== undefined) checkRequestCacheObject(requested, settings.allowedControls);
      return null;
    }
    let controls: RequestControls;
    if (settings.keyControls !== null) {
      controls = settings.keyControls;
    } else if (requested === undefined && headers['cache-control'] === undefined) {
      controls = NO_CONTROLS;
    } else {
      controls = readRequestControls(requested, headers['cache-control'], settings.allowedControls);
    }
    if (this.options.optIn && !(settings.keyControls === null ? controls.useCache : asksToUse(requested, settings.allowedControls))) {
      return null;
    }
    const read = !controls.noCache && controls.maxAgeSeconds !== 0;
    const write = !controls.noStore;
    if (!read && !write) return null;
    const namespace = controls.namespace === null ? settings.namespace : `${settings.namespace}/${controls.namespace}`;
    return {
      key: cacheKey(endpoint, namespace, body),
      read,
      write,
      ttlMs: (controls.ttlSeconds ?? settings.ttlSeconds) * 1000,
      maxAgeMs: controls.maxAgeSeconds === null ? null : controls.maxAgeSeconds * 1000,
    };
  }

  /** The cached answer, or null; a promise only when the store is remote. */
  lookup(plan: CachePlan): CachedAnswer | null | Promise<CachedAnswer | null> {
    const found = this.store.get(plan.key);
    if (found !== null && typeof (found as Promise<unknown>).then === 'function') {
      return (found as Promise<CachedAnswer | null>).then((answer) => this.judge(plan, answer));
    }
    return this.judge(plan, found as CachedAnswer | null);
  }

  /** Stores a fresh answer unless the plan forbids it or it is larger than `max_item_bytes`. */
  remember(plan: CachePlan, answer: CachedAnswer): void {
    if (!plan.write || answer.size > this.options.maxItemBytes) return;
    this.store.set(plan.key, answer, plan.ttlMs);
    this.stores.inc();
  }

  private judge(plan: CachePlan, answer: CachedAnswer | null): CachedAnswer | null {
    if (answer !== null && (plan.maxAgeMs === null || Date.now() - answer.storedAt <= plan.maxAgeMs)) {
      this.hits.inc();
      return answer;
    }
    this.misses.inc();
    return null;
  }

  /** For the start-up log line. */
  describe(): string {
    const where = this.store.kind === 'redis' ? 'Redis' : 'process memory';
    const optIn = this.options.optIn ? ', only for requests that ask ("use-cache": true, mode default_off)' : '';
    return `response cache ${this.options.enabledByDefault ? 'on' : 'off'} by default (teams and keys may override)${optIn}, ${where}, ttl ${this.options.ttlSeconds}s`;
  }

  logState(message: string, level: 'warn' | 'log'): void {
    if (level === 'warn') this.logger.warn(message);
    else this.logger.log(message);
  }
}

/** The request's own opt-in, read (and checked) even when the key's controls replace its other controls. */
function asksToUse(requested: unknown, allowed: ReadonlySet<string> | null): boolean {
  return requested !== undefined && requested !== null && readRequestControls(requested, undefined, allowed).useCache;
}
