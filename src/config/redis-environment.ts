import type { Environment } from './environment';

/** Where a Redis is and how to log in: a redis:// or rediss:// URL, or host and port with optional credentials. */
export interface RedisConnection {
  /** When set, the URL is the connection: host, port and credentials come from it. */
  readonly url: string | null;
  readonly host: string | null;
  readonly port: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
  readonly tls: boolean;
}

export const DEFAULT_REDIS_PORT = 6379;

type RedisVariables = Pick<Environment, 'REDIS_URL' | 'REDIS_HOST' | 'REDIS_PORT' | 'REDIS_PASSWORD' | 'REDIS_USERNAME' | 'REDIS_SSL'>;

/**
 * The Redis the environment names, in LiteLLM's two spellings: `REDIS_URL`, else `REDIS_HOST` with `REDIS_PORT`,
 * `REDIS_PASSWORD`, `REDIS_USERNAME` and `REDIS_SSL`. As in LiteLLM, a URL is the whole connection: when both are
 * set, the separate variables are ignored (`redisEnvironmentWarnings` says so when they disagree). Null when
 * neither names a server.
 */
export function environmentRedis(environment: RedisVariables): RedisConnection | null {
  if (environment.REDIS_URL !== undefined) {
    return { url: environment.REDIS_URL, host: null, port: DEFAULT_REDIS_PORT, username: undefined, password: undefined, db: 0, tls: false };
  }
  if (environment.REDIS_HOST === undefined) return null;
  return {
    url: null,
    host: environment.REDIS_HOST,
    port: environment.REDIS_PORT ?? DEFAULT_REDIS_PORT,
    username: environment.REDIS_USERNAME,
    password: environment.REDIS_PASSWORD,
    db: 0,
    tls: environment.REDIS_SSL ?? false,
  };
}

/**
 * One line for each separate variable that REDIS_URL overrides and that says something else than the URL. Host
 * names and ports are shown; passwords and user names never are.
 */
export function redisEnvironmentWarnings(environment: RedisVariables): string[] {
  if (environment.REDIS_URL === undefined) return [];
  let url: URL;
  try {
    url = new URL(environment.REDIS_URL);
  } catch {
    return [];
  }
  const ignored = (name: string, why: string): string => `${name} is ignored: REDIS_URL is set and wins (as in LiteLLM), and ${why}`;
  const warnings: string[] = [];
  const urlHost = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const urlPort = url.port === '' ? DEFAULT_REDIS_PORT : Number(url.port);
  if (environment.REDIS_HOST !== undefined && environment.REDIS_HOST.replace(/^\[(.*)\]$/, '$1') !== urlHost) {
    warnings.push(ignored('REDIS_HOST', `it names another server (${environment.REDIS_HOST}, the URL ${urlHost})`));
  }
  if (environment.REDIS_PORT !== undefined && environment.REDIS_PORT !== urlPort) {
    warnings.push(ignored('REDIS_PORT', `it names another port (${environment.REDIS_PORT}, the URL ${urlPort})`));
  }
  if (environment.REDIS_PASSWORD !== undefined && decodeURIComponent(url.password) !== environment.REDIS_PASSWORD) {
    warnings.push(ignored('REDIS_PASSWORD', 'the URL carries another password or none: put the password in the URL'));
  }
  if (environment.REDIS_USERNAME !== undefined && decodeURIComponent(url.username) !== environment.REDIS_USERNAME) {
    warnings.push(ignored('REDIS_USERNAME', 'the URL carries another user name or none: put it in the URL'));
  }
  const urlTls = url.protocol === 'rediss:';
  if (environment.REDIS_SSL !== undefined && environment.REDIS_SSL !== urlTls) {
    warnings.push(ignored('REDIS_SSL', `the URL's scheme says ${urlTls ? 'TLS (rediss://)' : 'no TLS (redis://; use rediss:// for TLS)'}`));
  }
  return warnings;
}
