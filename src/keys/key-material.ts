import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `sk-` + 32 random bytes in base64url: 256 bits, comfortably above the 128-bit floor. */
export function generateKey(): string {
  return `sk-${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 hex of the key: a fast hash is enough for high-entropy tokens (slow KDFs are for passwords). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** `sk-...abcd`: enough to tell keys apart in lists without being usable. */
export function displayName(key: string): string {
  return `sk-...${key.slice(-4)}`;
}

/**
 * Compares two SHA-256 hex digests in constant time. Comparing digests rather than the keys themselves
 * also hides the keys' lengths.
 */
export function digestsEqual(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}
