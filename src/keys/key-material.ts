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

/** Constant-time comparison that does not leak the length of either value. */
export function constantTimeEquals(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}
