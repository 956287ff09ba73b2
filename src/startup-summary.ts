import { readCacheOptions } from './cache/cache-options';
import { DEFAULT_REDIS_PORT, environmentRedis, type RedisConnection } from './config/redis-environment';
import type { GatewaySettings } from './config/gateway-settings';

/**
 * What an operator reads first in the start-up lines: which database and which Redis this process really uses.
 * Hosts, ports and database names only: never a user name or a password.
 */
export function describeDatabase(database: GatewaySettings['database'], embeddedDataDir: string | null): string {
  if (database.embedded) return embeddedDataDir === null ? 'embedded PGlite (in memory)' : `embedded PGlite (data dir ${embeddedDataDir})`;
  try {
    const url = new URL(database.url);
    // A Unix socket is named in the query (`postgres:///db?host=/var/run/postgresql`).
    const host = url.hostname === '' ? (url.searchParams.get('host') ?? 'localhost') : url.hostname;
    const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
    return `PostgreSQL ${host}:${url.port === '' ? '5432' : url.port}/${name === '' ? '(default database)' : name}`;
  } catch {
    return 'PostgreSQL';
  }
}

/**
 * The Redis servers the gateway talks to: the response cache's (`litellm_settings.cache_params`, over the REDIS_*
 * variables) and the environment's (cross-instance invalidation, router state, rate limits), each once; "none"
 * when there is none.
 */
export function describeRedis(settings: GatewaySettings, env: NodeJS.ProcessEnv): string {
  const servers = new Set<string>();
  try {
    const cache = readCacheOptions(settings.config.litellmSettings, settings.environment, env).redis;
    if (cache !== null) servers.add(redisAddress(cache));
  } catch {
    // A broken cache_params stopped the start in the cache module already.
  }
  const shared = environmentRedis(settings.environment);
  if (shared !== null) servers.add(redisAddress(shared));
  return servers.size === 0 ? 'none' : [...servers].join(', ');
}

function redisAddress(connection: RedisConnection): string {
  let host = connection.host ?? '127.0.0.1';
  let port = connection.port;
  let db = connection.db;
  let tls = connection.tls;
  if (connection.url !== null) {
    try {
      const url = new URL(connection.url);
      host = url.hostname;
      port = url.port === '' ? DEFAULT_REDIS_PORT : Number(url.port);
      const path = url.pathname.replace(/^\//, '');
      if (/^\d+$/.test(path)) db = Number(path);
      tls ||= url.protocol === 'rediss:';
    } catch {
      return 'Redis (unparsable URL)';
    }
  }
  return `${host}:${port}${db === 0 ? '' : `/${db}`}${tls ? ' (TLS)' : ''}`;
}
