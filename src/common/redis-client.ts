import { Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import type { RedisConnection } from '../config/redis-environment';

/**
 * An ioredis client for a connection, with the caller's behaviour options (timeouts, queueing, lazy connect).
 * With a URL, ioredis takes host, port and credentials from it and only fills in what it lacks from the options.
 */
export function createRedisClient(connection: RedisConnection, behaviour: IoRedisOptions): Redis {
  const login: IoRedisOptions = {
    ...(connection.password !== undefined ? { password: connection.password } : {}),
    ...(connection.username !== undefined ? { username: connection.username } : {}),
    ...(connection.db !== 0 ? { db: connection.db } : {}),
    ...(connection.tls ? { tls: {} } : {}),
  };
  return connection.url !== null
    ? new Redis(connection.url, { ...behaviour, ...login })
    : new Redis({ ...behaviour, ...login, host: connection.host ?? '127.0.0.1', port: connection.port });
}
