import { NO_LIMITS } from '../budgets/usage-limits';
import type { Principal } from '../keys/principal';
import { readCacheOptions } from './cache-options';
import { LocalCacheStore } from './cache-store';
import { ResponseCache } from './response-cache.service';

function principal(keyMetadata: Record<string, unknown> = {}): Principal {
  return {
    kind: 'key',
    isProxyAdmin: false,
    role: null,
    keyHash: 'b'.repeat(64),
    keyAlias: null,
    teamId: 'team-1',
    teamAlias: null,
    allowedModels: null,
    keyMetadata,
    teamMetadata: {},
    teamLoggingDisabled: false,
    userId: null,
    adminTeamIds: [],
    limits: NO_LIMITS,
  };
}

function cacheWith(params: Record<string, unknown>): ResponseCache {
  const options = readCacheOptions({ cache: true, cache_params: { type: 'local', ...params } }, {}, {});
  return new ResponseCache(options, [], new LocalCacheStore(options.local), null);
}

const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };

describe('ResponseCache.plan with mode: default_off (LiteLLM’s opt-in mode)', () => {
  const optIn = cacheWith({ mode: 'default_off' });

  it('has nothing to do for a request that does not ask', () => {
    expect(optIn.plan(principal(), body, {}, 'chat')).toBeNull();
    expect(optIn.plan(principal(), { ...body, cache: { ttl: 30 } }, {}, 'chat')).toBeNull();
    expect(optIn.plan(principal(), { ...body, cache: { 'use-cache': false } }, {}, 'chat')).toBeNull();
    expect(optIn.plan(principal(), body, { 'cache-control': 's-maxage=30' }, 'chat')).toBeNull();
  });

  it('reads and writes for a request with "use-cache": true, with its other controls', () => {
    expect(optIn.plan(principal(), { ...body, cache: { 'use-cache': true } }, {}, 'chat')).toMatchObject({ read: true, write: true, ttlMs: 600_000 });
    expect(optIn.plan(principal(), { ...body, cache: { 'use-cache': true, ttl: 30, 'no-cache': true } }, {}, 'chat')).toMatchObject({
      read: false,
      write: true,
      ttlMs: 30_000,
    });
  });

  it('the same question gets the same key whether or not it opts in, so an opted-in answer is found again', () => {
    const asked = optIn.plan(principal(), { ...body, cache: { 'use-cache': true } }, {}, 'chat');
    expect(cacheWith({}).plan(principal(), body, {}, 'chat')?.key).toBe(asked?.key);
  });

  it('a key’s own controls still apply, but only the request can opt in', () => {
    const noStore = principal({ cache: { 'no-store': true, 'use-cache': true } });
    expect(optIn.plan(noStore, body, {}, 'chat')).toBeNull();
    expect(optIn.plan(noStore, { ...body, cache: { 'use-cache': true } }, {}, 'chat')).toMatchObject({ read: true, write: false });
  });

  it('a caller whose caching is off stays off, and a bad opt-in value is still a 400', () => {
    const off = principal({ cache: false });
    expect(optIn.plan(off, { ...body, cache: { 'use-cache': true } }, {}, 'chat')).toBeNull();
    expect(() => optIn.plan(principal(), { ...body, cache: { 'use-cache': 'yes' } }, {}, 'chat')).toThrow('`cache.use-cache` must be true or false');
  });

  it('default_on ignores use-cache and caches every request', () => {
    expect(cacheWith({}).plan(principal(), body, {}, 'chat')).toMatchObject({ read: true, write: true });
    expect(cacheWith({ mode: 'default_on' }).plan(principal(), { ...body, cache: { 'use-cache': false } }, {}, 'chat')).not.toBeNull();
  });
});
