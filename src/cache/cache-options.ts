import { resolveEnvReference } from '../config/env-reference';
import type { Environment } from '../config/environment';
import type { LitellmSettings } from '../config/gateway-config.types';
import { DEFAULT_REDIS_PORT, environmentRedis, type RedisConnection } from '../config/redis-environment';
import type { CacheEndpoint } from './cache-key';

/** What `litellm_settings.cache` / `cache_params` (plus the REDIS_* variables) configure, checked once at boot. */
export interface CacheOptions {
  /** `litellm_settings.cache`: the default for callers whose team and key say nothing. */
  readonly enabledByDefault: boolean;
  /** `mode: default_off` (LiteLLM's opt-in mode): only requests whose `cache` object says `"use-cache": true` use the cache. */
  readonly optIn: boolean;
  readonly backend: 'local' | 'redis';
  /** Default time to live of an entry. */
  readonly ttlSeconds: number;
  readonly endpoints: ReadonlySet<CacheEndpoint>;
  readonly local: { readonly maxEntries: number; readonly maxBytes: number };
  /** Larger answers are served but not cached. */
  readonly maxItemBytes: number;
  readonly redis: RedisOptions | null;
}

/** `cache_params` url or host/port/password/username/ssl/db, over the REDIS_* variables (see `readRedis`). */
export interface RedisOptions extends RedisConnection {
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

/** LiteLLM's call type names; Gatehouse caches the three it serves. */
const CALL_TYPES: Readonly<Record<string, CacheEndpoint | null>> = {
  completion: 'chat',
  acompletion: 'chat',
  embedding: 'embeddings',
  aembedding: 'embeddings',
  text_completion: 'completions',
  atext_completion: 'completions',
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

type RedisVariables = Partial<Pick<Environment, 'REDIS_URL' | 'REDIS_HOST' | 'REDIS_PORT' | 'REDIS_PASSWORD' | 'REDIS_USERNAME' | 'REDIS_SSL'>>;

/**
 * Reads `cache_params`. A mistake stops the start with a message naming the field: an operator who asked for a
 * shared Redis cache must not silently get a per-process one. Unknown LiteLLM parameters only warn.
 */
export function readCacheOptions(
  settings: Pick<LitellmSettings, 'cache' | 'cache_params'>,
  environment: RedisVariables,
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void = () => undefined,
): CacheOptions {
  const params = settings.cache_params;
  const problems: string[] = [];
  for (const name of Object.keys(params)) {
    if (!KNOWN_PARAMS.has(name)) warn(`litellm_settings.cache_params.${name} is not used by Gatehouse; ignored`);
  }

  // LiteLLM's proxy defaults to Redis; here Redis is the default only when there is one to talk to.
  const namesRedis = environmentRedis(environment) !== null || hasValue(params.host) || hasValue(params.url);
  const type = params.type ?? (namesRedis ? 'redis' : 'local');
  let backend: CacheOptions['backend'] = 'local';
  if (type === 'redis') backend = 'redis';
  else if (type !== 'local') {
    problems.push(`type must be "local" or "redis" (got ${JSON.stringify(type)}): other LiteLLM cache types are not supported`);
  }

  // LiteLLM's opt-in mode: with `default_off`, only a request whose `cache` object says `"use-cache": true` is cached.
  const mode = params.mode ?? 'default_on';
  if (mode !== 'default_on' && mode !== 'default_off') {
    problems.push(`mode must be "default_on" or "default_off" (got ${JSON.stringify(mode)})`);
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
    endpoints.add('chat').add('embeddings').add('completions');
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
    const connection = readRedis(params, environment, env, problems);
    const namespace = params.namespace;
    if (namespace !== undefined && namespace !== null && (typeof namespace !== 'string' || !/^[\w.:-]{1,100}$/.test(namespace))) {
      problems.push('namespace must be up to 100 letters, digits, or . : - _');
    }
    if (connection !== null) {
      redis = {
        ...connection,
        keyPrefix: `${typeof namespace === 'string' ? namespace : 'gatehouse'}:cache:`,
        commandTimeoutMs: number('redis_timeout_ms', DEFAULT_COMMAND_TIMEOUT_MS, true),
        connectTimeoutMs: number('redis_connect_timeout_ms', DEFAULT_CONNECT_TIMEOUT_MS, true),
      };
    }
  }

  if (problems.length > 0) {
    throw new Error(`Invalid litellm_settings.cache_params:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
  return {
    enabledByDefault: settings.cache,
    optIn: mode === 'default_off',
    backend,
    ttlSeconds,
    endpoints,
    local: { maxEntries, maxBytes },
    maxItemBytes,
    redis,
  };
}

function hasValue(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/**
 * The cache's Redis, layered as LiteLLM layers it: `cache_params` over the REDIS_* variables. An address in
 * `cache_params` (url, or host) replaces the environment's; its missing port and credentials come from
 * REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD and REDIS_SSL (unless REDIS_URL is set: then the URL is the
 * environment's whole connection). Null, with a problem, when nothing names a server.
 */
function readRedis(
  params: Readonly<Record<string, unknown>>,
  environment: RedisVariables,
  env: NodeJS.ProcessEnv,
  problems: string[],
): RedisConnection | null {
  const text = (name: string): string | undefined => {
    const raw = params[name];
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      problems.push(`${name} must be a string`);
      return undefined;
    }
    const resolved = resolveEnvReference(String(raw), env);
    if (resolved === undefined) problems.push(`${name} refers to an environment variable that is not set`);
    return resolved === '' ? undefined : resolved;
  };
  const url = text('url') ?? null;
  if (url !== null && !/^rediss?:\/\/\S+$/.test(url)) problems.push('url must be a redis:// or rediss:// URL');
  const host = text('host') ?? null;
  if (host !== null && host.includes('://')) problems.push('host must be a host name or IP address (a redis:// URL goes in url)');
  const port = whole(text('port'), 'port', 1, 65535, problems);
  const db = whole(text('db'), 'db', 0, 1_000_000, problems) ?? 0;
  const username = text('username');
  const password = text('password');
  const sslText = text('ssl');
  const ssl = sslText === undefined ? undefined : flag(sslText);
  if (sslText !== undefined && ssl === undefined) problems.push(`ssl must be true or false (got ${JSON.stringify(sslText)})`);

  const separate: RedisVariables = environment.REDIS_URL === undefined ? environment : {};
  if (url !== null) {
    return { url, host: null, port: DEFAULT_REDIS_PORT, username, password, db, tls: ssl ?? false };
  }
  if (host !== null) {
    return {
      url: null,
      host,
      port: port ?? separate.REDIS_PORT ?? DEFAULT_REDIS_PORT,
      username: username ?? separate.REDIS_USERNAME,
      password: password ?? separate.REDIS_PASSWORD,
      db,
      tls: ssl ?? separate.REDIS_SSL ?? false,
    };
  }
  const fromEnvironment = environmentRedis(environment);
  if (fromEnvironment === null) {
    problems.push(
      'type "redis" needs a server: host (with port, password) or url in cache_params, or the REDIS_HOST (REDIS_PORT, REDIS_PASSWORD) or REDIS_URL environment variables',
    );
    return null;
  }
  return {
    ...fromEnvironment,
    port: port ?? fromEnvironment.port,
    username: username ?? fromEnvironment.username,
    password: password ?? fromEnvironment.password,
    db,
    tls: ssl ?? fromEnvironment.tls,
  };
}

/** Digits only, as for PORT: `Number()` would take '' for 0 and '0x10' for 16. */
function whole(value: string | undefined, name: string, min: number, max: number, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) {
    problems.push(`${name} must be an integer between ${min} and ${max} (got ${JSON.stringify(value)})`);
    return undefined;
  }
  return parsed;
}

function flag(value: string): boolean | undefined {
  const word = value.trim().toLowerCase();
  if (word === 'true') return true;
  if (word === 'false') return false;
  return undefined;
}
