import { NO_LIMITS } from '../budgets/usage-limits';
import type { Principal } from './principal';
import { PrincipalCache } from './principal-cache';

const principal = (teamId: string | null, userId: string | null = null): Principal => ({
  kind: 'key',
  isProxyAdmin: false,
  role: null,
  keyHash: 'h',
  keyAlias: null,
  teamId,
  teamAlias: null,
  allowedModels: null,
  keyMetadata: {},
  teamMetadata: {},
  teamLoggingDisabled: false,
  userId,
  adminTeamIds: [],
  limits: NO_LIMITS,
});

describe(PrincipalCache.name, () => {
  it('never extends a key’s life past its expiry', () => {
    const cache = new PrincipalCache();
    cache.set('k', principal(null), new Date(Date.now() + 1000));
    expect(cache.get('k')).toEqual(principal(null));
    expect(cache.get('k', Date.now() + 1001)).toBe('expired');
  });

  it('forgets entries after the TTL, on key invalidation and on team invalidation', () => {
    const cache = new PrincipalCache();
    cache.set('a', principal('t1'), null);
    cache.set('b', principal('t1'), null);
    cache.set('c', principal('t2'), null);
    expect(cache.get('a', Date.now() + PrincipalCache.TTL_MS + 1)).toBeUndefined();
    cache.invalidateKey('c');
    expect(cache.get('c')).toBeUndefined();
    cache.invalidateTeam('t1');
    expect(cache.get('b')).toBeUndefined();
  });

  it('on user invalidation forgets every key of that user, and only those', () => {
    const cache = new PrincipalCache();
    cache.set('a', principal('t1', 'ana'), null);
    cache.set('b', principal(null, 'ana'), null);
    cache.set('c', principal('t1', 'bob'), null);
    cache.invalidateUser('ana');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toEqual(principal('t1', 'bob'));
  });
});
