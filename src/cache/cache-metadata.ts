import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { CACHE_CONTROLS, controlsFromObject, SHARED_NAMESPACE } from './cache-policy';

const NAMESPACE_VALUES: readonly unknown[] = [SHARED_NAMESPACE, 'team', null];
const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

/**
 * Checks the cache settings in a team's or key's metadata when it is written, so a typo is a 400 now rather than
 * a setting that silently does nothing. Keys and teams accept `cache` (true/false) and `cache_ttl` (seconds);
 * a key's `cache` may also be LiteLLM's object of key-level controls, and a key may carry
 * `allowed_cache_controls`. A team's `cache_namespace: "shared"` lets it read and write the answers of every other
 * opted-in team, so only the proxy admin may change it.
 */
export function checkCacheMetadata(
  metadata: Readonly<Record<string, unknown>>,
  target: 'team' | 'key',
  caller: Principal,
  stored: Readonly<Record<string, unknown>> | null,
): void {
  const has = (name: string): boolean => Object.prototype.hasOwnProperty.call(metadata, name);

  if (has('cache')) {
    const cache = metadata.cache;
    if (target === 'key' && cache !== null && typeof cache === 'object' && !Array.isArray(cache)) {
      controlsFromObject(cache as Record<string, unknown>, null, 'metadata.cache', true);
    } else if (cache !== null && typeof cache !== 'boolean') {
      throw invalid(
        'metadata.cache',
        target === 'key'
          ? '`metadata.cache` must be true, false, or an object of cache controls ({"no-store": true, "ttl": 60})'
          : '`metadata.cache` must be true or false',
      );
    }
  }

  if (has('cache_ttl')) {
    const ttl = metadata.cache_ttl;
    if (ttl !== null && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS)) {
      throw invalid('metadata.cache_ttl', '`metadata.cache_ttl` must be a positive number of seconds');
    }
  }

  if (has('allowed_cache_controls')) {
    if (target === 'team') {
      throw invalid('metadata.allowed_cache_controls', '`allowed_cache_controls` is a key setting: set it in the key’s metadata');
    }
    const list = metadata.allowed_cache_controls;
    const known: readonly string[] = CACHE_CONTROLS;
    if (list !== null && (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && known.includes(item)))) {
      throw invalid('metadata.allowed_cache_controls', `\`metadata.allowed_cache_controls\` must be a list of ${CACHE_CONTROLS.join(', ')}`);
    }
  }

  if (has('cache_namespace')) {
    if (target === 'key') {
      throw invalid('metadata.cache_namespace', '`cache_namespace` is a team setting: set it in the team’s metadata (proxy admin only)');
    }
    const value = metadata.cache_namespace;
    if (!NAMESPACE_VALUES.includes(value)) {
      throw invalid('metadata.cache_namespace', '`metadata.cache_namespace` must be "shared" or "team"');
    }
    // Re-sending the stored value (a read-modify-write of the metadata) is not a change.
    const unchanged = (stored?.cache_namespace ?? null) === (value ?? null) || (value === 'team' && stored?.cache_namespace === undefined);
    if (!caller.isProxyAdmin && !unchanged) {
      throw new AppException('forbidden', 'Only the proxy admin may change a team’s cache_namespace', { param: 'metadata.cache_namespace' });
    }
  }
}

function invalid(param: string, message: string): AppException {
  return new AppException('validation_failed', message, { param });
}
