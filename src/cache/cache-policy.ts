import type { IncomingHttpHeaders } from 'node:http';
import type { TeamDefaultSettings } from '../config/gateway-config.types';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';

/**
 * LiteLLM's `SupportedCacheControls`, plus `use-cache` (the opt-in of `mode: default_off`): what a request's
 * `cache` object and a key's `allowed_cache_controls` name.
 */
export const CACHE_CONTROLS = ['ttl', 's-maxage', 'no-cache', 'no-store', 'namespace', 'use-cache'] as const;
export type CacheControlName = (typeof CACHE_CONTROLS)[number];

/** The team metadata value that puts a team's answers in the namespace every opted-in team shares. */
export const SHARED_NAMESPACE = 'shared';

/** A caller's cache settings, resolved from key, team, config team entry and global settings (in that order). */
export interface CallerCacheSettings {
  readonly enabled: boolean;
  readonly ttlSeconds: number;
  /** `team:<id>`, `key:<token>` for a key without a team, `shared`, or `master`. Part of every cache key. */
  readonly namespace: string;
  /** The key's non-empty `allowed_cache_controls`; null when every control is allowed. */
  readonly allowedControls: ReadonlySet<string> | null;
  /** A key's `metadata.cache` object: LiteLLM's key-level controls, which replace whatever the request asks. */
  readonly keyControls: RequestControls | null;
}

/** What one request asks of the cache, from its `cache` object or its `Cache-Control` header. */
export interface RequestControls {
  /** Do not answer from the cache (the fresh answer is still stored unless `noStore`). */
  readonly noCache: boolean;
  /** Do not store this answer. */
  readonly noStore: boolean;
  /** Time to live of the entry this request writes. */
  readonly ttlSeconds: number | null;
  /** Only accept a cached answer at most this old. */
  readonly maxAgeSeconds: number | null;
  /** A sub-namespace inside the caller's own namespace: it narrows, never widens, what the caller can read. */
  readonly namespace: string | null;
  /** `"use-cache": true`: the request opts in, which `mode: default_off` waits for. */
  readonly useCache: boolean;
}

export const NO_CONTROLS: RequestControls = Object.freeze({
  noCache: false,
  noStore: false,
  ttlSeconds: null,
  maxAgeSeconds: null,
  namespace: null,
  useCache: false,
});

export interface CacheDefaults {
  readonly enabledByDefault: boolean;
  readonly ttlSeconds: number;
}

type TeamEntry = Pick<TeamDefaultSettings, 'cache' | 'cache_ttl'>;

/**
 * Resolves a caller's settings from the principal, which the auth guard reads from the database and caches per
 * key. A key or team change invalidates that principal (on this instance, and on the others through the
 * principal cache's invalidation), so a changed cache setting holds from the next request on.
 */
export function resolveCallerSettings(
  principal: Principal,
  defaults: CacheDefaults,
  teamEntries: ReadonlyMap<string, TeamEntry>,
): CallerCacheSettings {
  const key = principal.keyMetadata;
  const team = principal.teamMetadata;
  const entry = principal.teamId !== null ? teamEntries.get(principal.teamId) : undefined;

  const keySwitch = typeof key.cache === 'boolean' ? key.cache : undefined;
  const teamSwitch = typeof team.cache === 'boolean' ? team.cache : undefined;
  const enabled = keySwitch ?? teamSwitch ?? entry?.cache ?? defaults.enabledByDefault;
  const ttlSeconds = positive(key.cache_ttl) ?? positive(team.cache_ttl) ?? entry?.cache_ttl ?? defaults.ttlSeconds;

  let namespace: string;
  if (principal.teamId !== null) {
    namespace = team.cache_namespace === SHARED_NAMESPACE ? SHARED_NAMESPACE : `team:${principal.teamId}`;
  } else if (principal.keyHash !== null) {
    namespace = `key:${principal.keyHash}`;
  } else {
    namespace = 'master';
  }

  const allowed = key.allowed_cache_controls;
  const allowedControls =
    Array.isArray(allowed) && allowed.length > 0 ? new Set(allowed.filter((item): item is string => typeof item === 'string')) : null;

  let keyControls: RequestControls | null = null;
  if (key.cache !== null && typeof key.cache === 'object' && !Array.isArray(key.cache)) {
    // Stored values were checked when written; an odd one from before is skipped rather than failing requests.
    try {
      keyControls = controlsFromObject(key.cache as Record<string, unknown>, null, 'metadata.cache', true);
    } catch {
      keyControls = null;
    }
  }
  return { enabled, ttlSeconds, namespace, allowedControls, keyControls };
}

/**
 * The request's own cache controls: the body's `cache` object (LiteLLM's per-request controls) and the
 * `Cache-Control` header (`no-cache`, `no-store`, and `s-maxage=N`, which LiteLLM turns into the entry's ttl).
 * The body wins where both say something. A control outside the key's non-empty `allowed_cache_controls` is
 * refused with LiteLLM's 403.
 */
export function readRequestControls(
  cache: unknown,
  cacheControlHeader: IncomingHttpHeaders['cache-control'],
  allowed: ReadonlySet<string> | null,
): RequestControls {
  let fromBody: RequestControls | null = null;
  if (cache !== undefined && cache !== null) {
    if (typeof cache !== 'object' || Array.isArray(cache)) {
      throw new AppException('validation_failed', '`cache` must be an object such as {"no-cache": true, "ttl": 60}', { param: 'cache' });
    }
    fromBody = controlsFromObject(cache as Record<string, unknown>, allowed, 'cache', false);
  }
  const fromHeader = typeof cacheControlHeader === 'string' && cacheControlHeader !== '' ? headerControls(cacheControlHeader, allowed) : null;
  if (fromHeader === null) return fromBody ?? NO_CONTROLS;
  if (fromBody === null) return fromHeader;
  return {
    noCache: fromBody.noCache || fromHeader.noCache,
    noStore: fromBody.noStore || fromHeader.noStore,
    ttlSeconds: fromBody.ttlSeconds ?? fromHeader.ttlSeconds,
    maxAgeSeconds: fromBody.maxAgeSeconds,
    namespace: fromBody.namespace,
    useCache: fromBody.useCache,
  };
}

/** Checks a request's `cache` object without applying it (the caller's caching is off, as LiteLLM checks anyway). */
export function checkRequestCacheObject(cache: unknown, allowed: ReadonlySet<string> | null): void {
  if (cache !== undefined && cache !== null) readRequestControls(cache, undefined, allowed);
}

export function notAllowed(control: string): AppException {
  return new AppException('forbidden', `Not allowed to set ${control} as a cache control. Contact admin to change permissions.`, {
    param: 'cache',
  });
}

const NAMESPACE_PATTERN = /^[\w.:-]{1,128}$/;

/** `keyLevel`: a key's own `metadata.cache`, where `namespace` is dropped as LiteLLM does. */
export function controlsFromObject(
  cache: Record<string, unknown>,
  allowed: ReadonlySet<string> | null,
  path: string,
  keyLevel: boolean,
): RequestControls {
  let noCache = false;
  let noStore = false;
  let ttlSeconds: number | null = null;
  let maxAgeSeconds: number | null = null;
  let namespace: string | null = null;
  let useCache = false;
  for (const name in cache) {
    if (allowed !== null && !allowed.has(name)) throw notAllowed(name);
    const value = cache[name];
    switch (name) {
      case 'no-cache':
        noCache = flag(value, `${path}.no-cache`);
        break;
      case 'no-store':
        noStore = flag(value, `${path}.no-store`);
        break;
      case 'ttl':
        ttlSeconds = seconds(value, `${path}.ttl`, false);
        break;
      case 's-maxage':
        maxAgeSeconds = seconds(value, `${path}.s-maxage`, true);
        break;
      case 'namespace':
        if (keyLevel || value === null || value === undefined) break;
        if (typeof value !== 'string' || !NAMESPACE_PATTERN.test(value)) {
          throw new AppException('validation_failed', `\`${path}.namespace\` must be 1-128 letters, digits, or . : - _`, {
            param: `${path}.namespace`,
          });
        }
        namespace = value;
        break;
      case 'use-cache':
        // A key's own controls cannot opt its requests in: LiteLLM copies only the other controls from them.
        if (!keyLevel) useCache = flag(value, `${path}.use-cache`);
        break;
      default:
      // Unknown controls are ignored, as in LiteLLM (unless an allow-list refused them above).
    }
  }
  return { noCache, noStore, ttlSeconds, maxAgeSeconds, namespace, useCache };
}

function headerControls(header: string, allowed: ReadonlySet<string> | null): RequestControls | null {
  let noCache = false;
  let noStore = false;
  let ttlSeconds: number | null = null;
  for (const part of header.split(',')) {
    const directive = part.trim().toLowerCase();
    if (directive === 'no-cache' || directive === 'no-store') {
      if (allowed !== null && !allowed.has(directive)) throw notAllowed(directive);
      if (directive === 'no-cache') noCache = true;
      else noStore = true;
    } else if (directive.startsWith('s-maxage=')) {
      if (allowed !== null && !allowed.has('s-maxage')) throw notAllowed('s-maxage');
      const value = directive.slice('s-maxage='.length).replace(/^"(.*)"$/, '$1');
      if (!/^\d{1,9}$/.test(value) || Number(value) === 0) {
        throw new AppException('validation_failed', 'Cache-Control s-maxage must be a positive number of seconds', { param: 'cache-control' });
      }
      ttlSeconds = Number(value);
    }
    // Other directives (max-age, no-transform, ...) are what HTTP libraries send on their own: ignored.
  }
  return noCache || noStore || ttlSeconds !== null ? { noCache, noStore, ttlSeconds, maxAgeSeconds: null, namespace: null, useCache: false } : null;
}

function flag(value: unknown, param: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new AppException('validation_failed', `\`${param}\` must be true or false`, { param });
  return value;
}

const MAX_SECONDS = 10 * 365 * 24 * 3600;

function seconds(value: unknown, param: string, zeroAllowed: boolean): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0) || value > MAX_SECONDS) {
    throw new AppException('validation_failed', `\`${param}\` must be a ${zeroAllowed ? 'non-negative' : 'positive'} number of seconds`, {
      param,
    });
  }
  return value;
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}
