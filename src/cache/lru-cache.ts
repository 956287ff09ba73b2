export interface LruLimits {
  /** Most entries kept at once. */
  readonly maxEntries: number;
  /** Most bytes (as reported by the caller for each entry) kept at once. */
  readonly maxBytes: number;
}

interface Slot<V> {
  readonly value: V;
  readonly size: number;
  /** Epoch ms after which the entry is dead. */
  readonly expiresAt: number;
}

/**
 * A least-recently-used map bounded by entry count and by total size, with a time-to-live per entry.
 * A Map iterates in insertion order, so moving an entry to the end on every read keeps the least recently
 * used one first, and eviction is O(1). Expired entries are dropped when read or when they reach the front;
 * the bounds hold either way, so an unbounded cache (Portkey-AI/gateway#1507) cannot happen.
 */
export class LruCache<V> {
  private readonly slots = new Map<string, Slot<V>>();
  private bytes = 0;

  constructor(private readonly limits: LruLimits) {
    if (!(limits.maxEntries >= 1) || !(limits.maxBytes >= 1)) {
      throw new Error('LruCache limits must be at least 1');
    }
  }

  get size(): number {
    return this.slots.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string, now = Date.now()): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= now) {
      this.remove(key, slot);
      return undefined;
    }
    // Re-inserting moves the entry to the most recently used end.
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  /**
   * Stores `value`, evicting least recently used entries until both bounds hold. Returns false (and stores
   * nothing) when the entry alone is bigger than the byte bound or the ttl is not positive.
   */
  set(key: string, value: V, size: number, ttlMs: number, now = Date.now()): boolean {
    const existing = this.slots.get(key);
    if (existing !== undefined) this.remove(key, existing);
    if (size > this.limits.maxBytes || !(ttlMs > 0)) return false;
    while (this.slots.size >= this.limits.maxEntries || this.bytes + size > this.limits.maxBytes) {
      const oldest = this.slots.entries().next().value;
      if (oldest === undefined) break;
      this.remove(oldest[0], oldest[1]);
    }
    this.slots.set(key, { value, size, expiresAt: now + ttlMs });
    this.bytes += size;
    return true;
  }

  delete(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.remove(key, slot);
    return true;
  }

  clear(): void {
    this.slots.clear();
    this.bytes = 0;
  }

  private remove(key: string, slot: Slot<V>): void {
    this.slots.delete(key);
    this.bytes -= slot.size;
  }
}
