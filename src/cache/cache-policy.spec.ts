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
    });
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
  });

  it('400 for malformed values', () => {
    expect(() => readRequestControls('yes', undefined, null)).toThrow('`cache` must be an object');
    expect(() => readRequestControls({ ttl: -1 }, undefined, null)).toThrow('cache.ttl');
    expect(() => readRequestControls({ 'no-cache': 'yes' }, undefined, null)).toThrow('cache.no-cache');
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
    expect(() => readCacheOptions({ cache: true, cache_params: { type: 'redis' } }, {}, {})).toThrow('needs host');
    expect(() => readCacheOptions({ cache: true, cache_params: { ttl: 0 } }, {}, {})).toThrow('ttl must be a positive number');
    expect(() => readCacheOptions({ cache: true, cache_params: { mode: 'default_off' } }, {}, {})).toThrow('mode must be "default_on"');
    expect(() =>
      readCacheOptions({ cache: true, cache_params: { type: 'redis', host: 'h', password: 'os.environ/MISSING_PW' } }, {}, {}),
    ).toThrow('password refers to an environment variable that is not set');
  });

  it('supported_call_types limits the cached endpoints', () => {
    const options = readCacheOptions({ cache: true, cache_params: { supported_call_types: ['acompletion'] } }, {}, {});
    expect([...options.endpoints]).toEqual(['chat']);
  });
});
