import { resolveEnvReference } from '../config/env-reference';
import type { LitellmSettings } from '../config/gateway-config.types';
import type { CacheEndpoint } from './cache-key';

/** What `litellm_settings.cache` / `cache_params` (plus `REDIS_URL`) configure, checked once at boot. */
export interface CacheOptions {
  /** `litellm_settings.cache`: the default for callers whose team and key say nothing. */
  readonly enabledByDefault: boolean;
  readonly backend: 'local' | 'redis';
  /** Default time to live of an entry. */
  readonly ttlSeconds: number;
  readonly endpoints: ReadonlySet<CacheEndpoint>;
  readonly local: { readonly maxEntries: number; readonly maxBytes: number };
  /** Larger answers are served but not cached. */
  readonly maxItemBytes: number;
  readonly redis: RedisOptions | null;
}

export interface RedisOptions {
  /** A redis:// URL, or host/port/password; the URL comes from `cache_params.url` or `REDIS_URL`. */
  readonly url: string | null;
  readonly host: string | null;
  readonly port: number;
  readonly password: string | undefined;
  readonly username: string | undefined;
  readonly db: number;
  readonly tls: boolean;
  /** Every key this gateway writes starts with it (`cache_params.namespace`, as LiteLLM prefixes its keys). */
  readonly keyPrefix: string;
  /** Longest a cache command may take before the request goes on without the cache. */
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** LiteLLM's in-memory default; Redis entries get it too, so nothing written by the gateway lives forever. */
export const DEFAULT_TTL_SECONDS = 600;
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_ITEM_BYTES = 1024 * 1024;
const DEFAULT_COMMAND_TIMEOUT_MS = 250;
const DEFAULT_CONNECT_TIMEOUT_MS = 1000;

/** LiteLLM's call type names; Gatehouse caches the two it serves. */
const CALL_TYPES: Readonly<Record<string, CacheEndpoint | null>> = {
  completion: 'chat',
  acompletion: 'chat',
  embedding: 'embeddings',
  aembedding: 'embeddings',
  text_completion: null,
  atext_completion: null,
  transcription: null,
  atranscription: null,
};

const KNOWN_PARAMS = new Set([
  'type',
  'ttl',
  'host',
  'port',
  'password',
  'username',
  'url',
  'db',
  'ssl',
  'namespace',
  'supported_call_types',
  'max_size_in_memory',
  'max_memory_bytes',
  'max_item_bytes',
  'redis_timeout_ms',
  'redis_connect_timeout_ms',
  'mode',
]);

/**
 * Reads `cache_params`. A mistake stops the start with a message naming the field: an operator who asked for a
 * shared Redis cache must not silently get a per-process one. Unknown LiteLLM parameters only warn.
 */
export function readCacheOptions(
  settings: Pick<LitellmSettings, 'cache' | 'cache_params'>,
  environment: { readonly REDIS_URL?: string },
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void = () => undefined,
): CacheOptions {
  const params = settings.cache_params;
  const problems: string[] = [];
  for (const name of Object.keys(params)) {
    if (!KNOWN_PARAMS.has(name)) warn(`litellm_settings.cache_params.${name} is not used by Gatehouse; ignored`);
  }

  // LiteLLM's proxy defaults to Redis; here Redis is the default only when there is one to talk to.
  const type = params.type ?? (environment.REDIS_URL !== undefined ? 'redis' : 'local');
  let backend: CacheOptions['backend'] = 'local';
  if (type === 'redis') backend = 'redis';
  else if (type !== 'local') {
    problems.push(`type must be "local" or "redis" (got ${JSON.stringify(type)}): other LiteLLM cache types are not supported`);
  }

  // LiteLLM's opt-in mode (`default_off`, requests ask with `use-cache`) is not implemented; silently caching
  // everything instead would be the opposite of what was asked.
  if (params.mode !== undefined && params.mode !== null && params.mode !== 'default_on') {
    problems.push('mode must be "default_on" (opt-in caching is done per team or key: `cache: true` in their metadata)');
  }

  const number = (name: string, fallback: number, integer: boolean): number => {
    const raw = params[name];
    if (raw === undefined || raw === null) return fallback;
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      problems.push(`${name} must be a positive ${integer ? 'integer' : 'number'} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return value;
  };
  const ttlSeconds = number('ttl', DEFAULT_TTL_SECONDS, false);
  const maxEntries = number('max_size_in_memory', DEFAULT_MAX_ENTRIES, true);
  const maxBytes = number('max_memory_bytes', DEFAULT_MAX_BYTES, true);
  const maxItemBytes = number('max_item_bytes', DEFAULT_MAX_ITEM_BYTES, true);

  const endpoints = new Set<CacheEndpoint>();
  const callTypes = params.supported_call_types;
  if (callTypes === undefined || callTypes === null) {
    endpoints.add('chat').add('embeddings');
  } else if (!Array.isArray(callTypes) || !callTypes.every((item) => typeof item === 'string' && item in CALL_TYPES)) {
    problems.push(`supported_call_types must be a list of ${Object.keys(CALL_TYPES).join(', ')}`);
  } else {
    for (const callType of callTypes as string[]) {
      const endpoint = CALL_TYPES[callType];
      if (endpoint) endpoints.add(endpoint);
    }
  }

  let redis: RedisOptions | null = null;
  if (backend === 'redis') {
    const text = (name: string): string | undefined => {
      const raw = params[name];
      if (raw === undefined || raw === null) return undefined;
      if (typeof raw !== 'string' && typeof raw !== 'number') {
        problems.push(`${name} must be a string`);
        return undefined;
      }
      const resolved = resolveEnvReference(String(raw), env);
      if (resolved === undefined) problems.push(`${name} refers to an environment variable that is not set`);
      return resolved === '' ? undefined : resolved;
    };
    const url = text('url') ?? null;
    const host = text('host') ?? null;
    const portText = text('port');
    const port = portText === undefined ? 6379 : Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push('port must be an integer between 1 and 65535');
    const dbText = text('db');
    const db = dbText === undefined ? 0 : Number(dbText);
    if (!Number.isInteger(db) || db < 0) problems.push('db must be a non-negative integer');
    const fromEnv = environment.REDIS_URL ?? null;
    if (url === null && host === null && fromEnv === null) {
      problems.push('type "redis" needs host (and port, password) or url in cache_params, or the REDIS_URL environment variable');
    }
    if (url !== null && !/^rediss?:\/\/\S+$/.test(url)) problems.push('url must be a redis:// or rediss:// URL');
    const ssl = params.ssl;
    if (ssl !== undefined && ssl !== null && typeof ssl !== 'boolean') problems.push('ssl must be true or false');
    const namespace = params.namespace;
    if (namespace !== undefined && namespace !== null && (typeof namespace !== 'string' || !/^[\w.:-]{1,100}$/.test(namespace))) {
      problems.push('namespace must be up to 100 letters, digits, or . : - _');
    }
    redis = {
      // Explicit cache_params win over the environment, as LiteLLM's own parameters do.
      url: url ?? (host === null ? fromEnv : null),
      host,
      port,
      password: text('password'),
      username: text('username'),
      db,
      tls: ssl === true,
      keyPrefix: `${typeof namespace === 'string' ? namespace : 'gatehouse'}:cache:`,
      commandTimeoutMs: number('redis_timeout_ms', DEFAULT_COMMAND_TIMEOUT_MS, true),
      connectTimeoutMs: number('redis_connect_timeout_ms', DEFAULT_CONNECT_TIMEOUT_MS, true),
    };
  }

  if (problems.length > 0) {
    throw new Error(`Invalid litellm_settings.cache_params:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
  return {
    enabledByDefault: settings.cache,
    backend,
    ttlSeconds,
    endpoints,
    local: { maxEntries, maxBytes },
    maxItemBytes,
    redis,
  };
}
