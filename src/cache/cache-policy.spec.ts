import { NO_LIMITS } from '../budgets/usage-limits';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { readRequestControls, resolveCallerSettings } from './cache-policy';
import { readCacheOptions } from './cache-options';

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    kind: 'key',
    isProxyAdmin: false,
    role: null,
    keyHash: 'a'.repeat(64),
    keyAlias: null,
    teamId: 'team-1',
    teamAlias: null,
    allowedModels: null,
    keyMetadata: {},
    teamMetadata: {},
    teamLoggingDisabled: false,
    userId: null,
    adminTeamIds: [],
    limits: NO_LIMITS,
    ...overrides,
  };
}

const defaults = { enabledByDefault: false, ttlSeconds: 600 };

describe('resolveCallerSettings', () => {
  it('key wins over team, team metadata over the config team entry, that over the global default', () => {
    const entries = new Map([['team-1', { cache: true, cache_ttl: 30 }]]);
    expect(resolveCallerSettings(principal(), defaults, entries)).toMatchObject({ enabled: true, ttlSeconds: 30 });
    expect(resolveCallerSettings(principal({ teamMetadata: { cache: false } }), defaults, entries).enabled).toBe(false);
    const keyOn = principal({ teamMetadata: { cache: false, cache_ttl: 5 }, keyMetadata: { cache: true, cache_ttl: 7 } });
    expect(resolveCallerSettings(keyOn, defaults, entries)).toMatchObject({ enabled: true, ttlSeconds: 7 });
    expect(resolveCallerSettings(principal({ teamId: null }), { enabledByDefault: true, ttlSeconds: 9 }, entries)).toMatchObject({
      enabled: true,
      ttlSeconds: 9,
    });
  });

  it('namespaces: per team, per key without a team, shared only by team opt-in', () => {
    expect(resolveCallerSettings(principal(), defaults, new Map()).namespace).toBe('team:team-1');
    expect(resolveCallerSettings(principal({ teamId: null }), defaults, new Map()).namespace).toBe(`key:${'a'.repeat(64)}`);
    expect(resolveCallerSettings(principal({ teamMetadata: { cache_namespace: 'shared' } }), defaults, new Map()).namespace).toBe('shared');
    // A key cannot opt itself into the shared namespace.
    expect(resolveCallerSettings(principal({ keyMetadata: { cache_namespace: 'shared' } }), defaults, new Map()).namespace).toBe('team:team-1');
  });

  it('a key metadata.cache object is LiteLLM’s key-level controls and leaves the switch to the team', () => {
    const settings = resolveCallerSettings(principal({ keyMetadata: { cache: { 'no-store': true } }, teamMetadata: { cache: true } }), defaults, new Map());
    expect(settings.enabled).toBe(true);
    expect(settings.keyControls).toMatchObject({ noStore: true, noCache: false });
  });
});

describe('readRequestControls', () => {
  it('reads the body cache object and the Cache-Control header; the body wins', () => {
    expect(readRequestControls({ 'no-cache': true, ttl: 5, 's-maxage': 10, namespace: 'ns' }, undefined, null)).toEqual({
      noCache: true,
      noStore: false,
      ttlSeconds: 5,
      maxAgeSeconds: 10,
      namespace: 'ns',
      useCache: false,
    });
    expect(readRequestControls({ 'use-cache': true }, undefined, null).useCache).toBe(true);
    expect(readRequestControls(undefined, 'no-store, s-maxage=30', null)).toMatchObject({ noStore: true, ttlSeconds: 30 });
    expect(readRequestControls({ ttl: 5 }, 's-maxage=30', null).ttlSeconds).toBe(5);
    expect(readRequestControls(undefined, 'max-age=0, no-transform', null)).toMatchObject({ noCache: false, noStore: false });
  });

  it('refuses a control outside a non-empty allowed list with LiteLLM’s 403', () => {
    const allowed = new Set(['no-cache']);
    expect(() => readRequestControls({ 'no-cache': true }, undefined, allowed)).not.toThrow();
    try {
      readRequestControls({ 'no-store': true }, undefined, allowed);
      throw new Error('expected a 403');
    } catch (error) {
      expect(error).toBeInstanceOf(AppException);
      expect((error as AppException).status).toBe(403);
      expect((error as AppException).message).toBe('Not allowed to set no-store as a cache control. Contact admin to change permissions.');
    }
    expect(() => readRequestControls(undefined, 'no-store', allowed)).toThrow('Not allowed to set no-store');
    // The opt-in of mode: default_off is a control like the others: a key's allow-list must name it.
    expect(() => readRequestControls({ 'use-cache': true }, undefined, allowed)).toThrow('Not allowed to set use-cache');
  });

  it('400 for malformed values', () => {
    expect(() => readRequestControls('yes', undefined, null)).toThrow('`cache` must be an object');
    expect(() => readRequestControls({ ttl: -1 }, undefined, null)).toThrow('cache.ttl');
    expect(() => readRequestControls({ 'no-cache': 'yes' }, undefined, null)).toThrow('cache.no-cache');
    expect(() => readRequestControls({ 'use-cache': 'True' }, undefined, null)).toThrow('`cache.use-cache` must be true or false');
    expect(() => readRequestControls(undefined, 's-maxage=abc', null)).toThrow('s-maxage');
  });
});

describe('readCacheOptions', () => {
  it('defaults to a local cache, or Redis when REDIS_URL is set', () => {
    expect(readCacheOptions({ cache: true, cache_params: {} }, {}, {}).backend).toBe('local');
    const redis = readCacheOptions({ cache: true, cache_params: {} }, { REDIS_URL: 'redis://127.0.0.1:6379' }, {});
    expect(redis.backend).toBe('redis');
    expect(redis.redis?.url).toBe('redis://127.0.0.1:6379');
  });

  it('reads host, port and a password from the environment; explicit params win over REDIS_URL', () => {
    const options = readCacheOptions(
      { cache: true, cache_params: { type: 'redis', host: '127.0.0.1', port: 6380, password: 'os.environ/CACHE_PW', ttl: 60, namespace: 'gh-test' } },
      { REDIS_URL: 'redis://elsewhere:1' },
      { CACHE_PW: 'pw' },
    );
    expect(options.redis).toMatchObject({ url: null, host: '127.0.0.1', port: 6380, password: 'pw', keyPrefix: 'gh-test:cache:' });
    expect(options.ttlSeconds).toBe(60);
  });

  it('stops the start on an unsupported type or bad values, naming each, without echoing secrets', () => {
    expect(() => readCacheOptions({ cache: true, cache_params: { type: 's3' } }, {}, {})).toThrow('type must be "local" or "redis"');
    expect(() => readCacheOptions({ cache: true, cache_params: { type: 'redis' } }, {}, {})).toThrow('needs a server');
    expect(() => readCacheOptions({ cache: true, cache_params: { ttl: 0 } }, {}, {})).toThrow('ttl must be a positive number');
    expect(() => readCacheOptions({ cache: true, cache_params: { mode: 'opt_in' } }, {}, {})).toThrow(
      'mode must be "default_on" or "default_off" (got "opt_in")',
    );
    expect(() =>
      readCacheOptions({ cache: true, cache_params: { type: 'redis', host: 'h', password: 'os.environ/MISSING_PW' } }, {}, {}),
    ).toThrow('password refers to an environment variable that is not set');
  });

  it('mode: default_off is LiteLLM’s opt-in mode; default_on (or no mode) caches without being asked', () => {
    expect(readCacheOptions({ cache: true, cache_params: { mode: 'default_off' } }, {}, {}).optIn).toBe(true);
    expect(readCacheOptions({ cache: true, cache_params: { mode: 'default_on' } }, {}, {}).optIn).toBe(false);
    expect(readCacheOptions({ cache: true, cache_params: {} }, {}, {}).optIn).toBe(false);
  });

  it('LiteLLM’s REDIS_HOST/REDIS_PORT/REDIS_PASSWORD/REDIS_USERNAME/REDIS_SSL: a Redis cache without a type', () => {
    const options = readCacheOptions(
      { cache: true, cache_params: { namespace: 'ns' } },
      { REDIS_HOST: 'cache', REDIS_PORT: 6380, REDIS_PASSWORD: 'pw', REDIS_USERNAME: 'gw', REDIS_SSL: true },
      {},
    );
    expect(options.backend).toBe('redis');
    expect(options.redis).toMatchObject({ url: null, host: 'cache', port: 6380, password: 'pw', username: 'gw', tls: true, keyPrefix: 'ns:cache:' });
    // LiteLLM's docs: `type: redis` in cache_params, the server in the environment.
    expect(readCacheOptions({ cache: true, cache_params: { type: 'redis' } }, { REDIS_HOST: 'cache' }, {}).redis).toMatchObject({ host: 'cache', port: 6379 });
  });

  it('cache_params host/port/password/username/ssl, as literals or os.environ/ references, over the REDIS_* variables', () => {
    const params = {
      type: 'redis',
      host: 'os.environ/SPEC_REDIS_HOST',
      port: 'os.environ/SPEC_REDIS_PORT',
      password: 'os.environ/SPEC_REDIS_PASSWORD',
      username: 'os.environ/SPEC_REDIS_USERNAME',
      ssl: 'os.environ/SPEC_REDIS_SSL',
    };
    const env = { SPEC_REDIS_HOST: 'params-host', SPEC_REDIS_PORT: '7000', SPEC_REDIS_PASSWORD: 'params-pw', SPEC_REDIS_USERNAME: 'params-user', SPEC_REDIS_SSL: 'True' };
    const environment = { REDIS_HOST: 'env-host', REDIS_PORT: 6380, REDIS_PASSWORD: 'env-pw', REDIS_USERNAME: 'env-user', REDIS_SSL: false };
    expect(readCacheOptions({ cache: true, cache_params: params }, environment, env).redis).toMatchObject({
      url: null,
      host: 'params-host',
      port: 7000,
      password: 'params-pw',
      username: 'params-user',
      tls: true,
    });
    // What cache_params leaves out comes from the environment's separate variables...
    expect(readCacheOptions({ cache: true, cache_params: { host: 'h', port: 6379 } }, environment, {}).redis).toMatchObject({
      host: 'h',
      port: 6379,
      password: 'env-pw',
      username: 'env-user',
      tls: false,
    });
    expect(readCacheOptions({ cache: true, cache_params: { port: 7001, password: 'p' } }, environment, {}).redis).toMatchObject({
      host: 'env-host',
      port: 7001,
      password: 'p',
    });
    // ...but not once REDIS_URL is set: then the URL is the environment's whole connection.
    expect(readCacheOptions({ cache: true, cache_params: { host: 'h' } }, { ...environment, REDIS_URL: 'redis://u:1' }, {}).redis).toMatchObject({
      host: 'h',
      port: 6379,
      password: undefined,
    });
    expect(readCacheOptions({ cache: true, cache_params: {} }, { ...environment, REDIS_URL: 'redis://u:1' }, {}).redis).toMatchObject({
      url: 'redis://u:1',
      host: null,
      password: undefined,
    });
  });

  it('stops the start on a Redis setting that cannot be right, naming it and never echoing a password', () => {
    const fails = (params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string => {
      try {
        readCacheOptions({ cache: true, cache_params: { type: 'redis', host: 'h', ...params } }, {}, env);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(fails({ port: 'six' })).toContain('port must be an integer between 1 and 65535 (got "six")');
    expect(fails({ port: '0x10' })).toContain('port must be an integer between 1 and 65535');
    expect(fails({ port: 70000 })).toContain('port must be an integer between 1 and 65535');
    expect(fails({ ssl: 'yes please' })).toContain('ssl must be true or false (got "yes please")');
    expect(fails({ ssl: 'os.environ/SPEC_SSL' }, { SPEC_SSL: 'maybe' })).toContain('ssl must be true or false');
    expect(fails({ host: 'redis://h:6379' })).toContain('host must be a host name or IP address');
    expect(fails({ db: -1 })).toContain('db must be an integer');
    const unset = fails({ password: 'os.environ/SPEC_UNSET_PASSWORD', port: 'bad' });
    expect(unset).toContain('password refers to an environment variable that is not set');
    expect(fails({ password: { secret: 'pw-in-object-9' } })).not.toContain('pw-in-object-9');
    expect(() => readCacheOptions({ cache: true, cache_params: { type: 'redis' } }, { REDIS_PORT: 6380, REDIS_PASSWORD: 'pw' }, {})).toThrow(
      'type "redis" needs a server: host (with port, password) or url in cache_params, or the REDIS_HOST (REDIS_PORT, REDIS_PASSWORD) or REDIS_URL environment variables',
    );
  });

  it('supported_call_types limits the cached endpoints', () => {
    const options = readCacheOptions({ cache: true, cache_params: { supported_call_types: ['acompletion'] } }, {}, {});
    expect([...options.endpoints]).toEqual(['chat']);
  });
});
