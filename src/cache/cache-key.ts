import { createHash } from 'node:crypto';

export type CacheEndpoint = 'chat' | 'embeddings' | 'completions';

/**
 * Top-level request fields that do not change the answer, so they stay out of the key: who asks (`user`),
 * gateway bookkeeping (`metadata`, `cache`, `no-log`), how the answer is delivered (`stream`, `stream_options`)
 * and client-side timeouts. Everything else is part of the key, including parameters this gateway does not
 * know: an unknown parameter may well change the answer, and a wrong hit is worse than a miss.
 */
const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'user',
  'metadata',
  'cache',
  'no-log',
  'stream',
  'stream_options',
  'timeout',
  'request_timeout',
]);

/** Bumped whenever the canonical form changes, so old entries simply stop matching. */
const KEY_VERSION = 'gatehouse-cache-v1';

/**
 * JSON with object keys sorted at every level, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request.
 * Array order is kept (message order matters). Like JSON.stringify, `undefined` members are left out and
 * non-finite numbers become null.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'object': {
      if (value === null) {
        return 'null';
      }
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          // JSON.stringify writes null for holes and undefined items; the canonical form must agree.
          out += item === undefined || typeof item === 'function' ? 'null' : canonicalJson(item);
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined || typeof item === 'function') continue;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
      }
      return `${out}}`;
    }
    default:
      // undefined, functions, symbols and bigints cannot come out of a parsed JSON body.
      return 'null';
  }
}

/**
 * The request part of the key: model, messages or input and every answer-changing parameter. A top-level
 * `null` means "the default", the same as leaving the field out.
 */
export function canonicalRequest(body: Readonly<Record<string, unknown>>): string {
  const kept: Record<string, unknown> = {};
  for (const key in body) {
    const value = body[key];
    if (value !== null && value !== undefined && !IGNORED_FIELDS.has(key)) {
      kept[key] = value;
    }
  }
  return canonicalJson(kept);
}

/**
 * SHA-256 over the endpoint, the namespace and the canonical request. The namespace is inside the hash, so
 * two teams asking the same question get different keys and can never read each other's entries; the caller's
 * API key is never part of it (a key rotation does not empty the team's cache).
 */
export function cacheKey(endpoint: CacheEndpoint, namespace: string, body: Readonly<Record<string, unknown>>): string {
  return createHash('sha256')
    .update(KEY_VERSION)
    .update('\0')
    .update(endpoint)
    .update('\0')
    // Length-prefixed, so no namespace can end where another one's request begins.
    .update(`${namespace.length}:${namespace}`)
    .update('\0')
    .update(canonicalRequest(body))
    .digest('hex');
}
