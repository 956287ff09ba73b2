import { LruCache } from './lru-cache';

describe('LruCache', () => {
  it('evicts the least recently used entry when the entry bound is reached', () => {
    const lru = new LruCache<string>({ maxEntries: 2, maxBytes: 1000 });
    lru.set('a', 'A', 1, 60_000);
    lru.set('b', 'B', 1, 60_000);
    expect(lru.get('a')).toBe('A'); // a is now the most recent
    lru.set('c', 'C', 1, 60_000);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.get('c')).toBe('C');
    expect(lru.size).toBe(2);
  });

  it('evicts until the byte bound holds, and refuses an entry larger than the bound', () => {
    const lru = new LruCache<string>({ maxEntries: 100, maxBytes: 10 });
    lru.set('a', 'A', 4, 60_000);
    lru.set('b', 'B', 4, 60_000);
    lru.set('c', 'C', 4, 60_000);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.totalBytes).toBe(8);
    expect(lru.set('huge', 'H', 11, 60_000)).toBe(false);
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.totalBytes).toBe(8);
  });

  it('expires entries after their ttl', () => {
    const lru = new LruCache<string>({ maxEntries: 10, maxBytes: 100 });
    lru.set('a', 'A', 5, 1000, 0);
    expect(lru.get('a', 999)).toBe('A');
    expect(lru.get('a', 1000)).toBeUndefined();
    expect(lru.size).toBe(0);
    expect(lru.totalBytes).toBe(0);
  });

  it('replacing an entry updates its size and ttl', () => {
    const lru = new LruCache<string>({ maxEntries: 10, maxBytes: 100 });
    lru.set('a', 'old', 50, 1000, 0);
    lru.set('a', 'new', 10, 5000, 0);
    expect(lru.totalBytes).toBe(10);
    expect(lru.get('a', 2000)).toBe('new');
    expect(lru.delete('a')).toBe(true);
    expect(lru.totalBytes).toBe(0);
  });

  it('refuses a non-positive ttl and bad limits', () => {
    const lru = new LruCache<string>({ maxEntries: 1, maxBytes: 1 });
    expect(lru.set('a', 'A', 1, 0)).toBe(false);
    expect(() => new LruCache({ maxEntries: 0, maxBytes: 1 })).toThrow();
  });
});
