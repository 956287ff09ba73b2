import { MemoryLimiter } from './memory-limiter';
import type { Descriptor } from './rate-limit-descriptors';

const WINDOW_MS = 60_000;

function descriptor(name: Descriptor['name'], value: string, limits: Partial<Pick<Descriptor, 'rpm' | 'tpm' | 'maxParallel'>>): Descriptor {
  return { name, value, counterKey: `${name}:${value}`, rpm: limits.rpm ?? null, tpm: limits.tpm ?? null, maxParallel: limits.maxParallel ?? null };
}

describe(MemoryLimiter.name, () => {
  let now: number;
  let limiter: MemoryLimiter;

  beforeEach(() => {
    now = 1_700_000_000_000;
    limiter = new MemoryLimiter(() => now, WINDOW_MS);
  });

  it('rpm_limit=N admits exactly N calls a window; the window is anchored at its first call and rolls after 60 s', () => {
    const key = [descriptor('api_key', 'k', { rpm: 3 })];
    now += 5_000; // the window starts at the first call, not at a minute boundary
    const first = limiter.acquire(key);
    expect(first).toMatchObject({ refusedAt: -1, usage: [{ requests: 1, resetMs: WINDOW_MS }] });
    now += 10_000;
    expect(limiter.acquire(key).usage[0]).toMatchObject({ requests: 2, resetMs: WINDOW_MS - 10_000 });
    expect(limiter.acquire(key).refusedAt).toBe(-1);
    const refused = limiter.acquire(key);
    expect(refused).toMatchObject({ refusedAt: 0, refusedType: 'requests', usage: [{ requests: 3, resetMs: WINDOW_MS - 10_000 }] });
    // Refused calls count nowhere: still 3 in the window.
    expect(limiter.acquire(key).usage[0].requests).toBe(3);
    now += WINDOW_MS - 10_000 - 1;
    expect(limiter.acquire(key).refusedAt).toBe(0);
    now += 1; // exactly one window after the first call
    expect(limiter.acquire(key)).toMatchObject({ refusedAt: -1, usage: [{ requests: 1, resetMs: WINDOW_MS }] });
  });

  it('counts tokens after the call, in the window they were used in; a window whose tokens reached tpm takes no call', () => {
    const key = [descriptor('api_key', 'k', { tpm: 100 })];
    expect(limiter.acquire(key).refusedAt).toBe(-1);
    expect(limiter.acquire(key).refusedAt).toBe(-1); // tokens unknown before a call: both admitted
    limiter.release(key, 60);
    expect(limiter.acquire(key).usage[0].tokens).toBe(60);
    limiter.release(key, 39);
    limiter.release(key, 1);
    expect(limiter.acquire(key)).toMatchObject({ refusedAt: 0, refusedType: 'tokens', usage: [{ tokens: 100 }] });
    now += WINDOW_MS;
    expect(limiter.acquire(key)).toMatchObject({ refusedAt: -1, usage: [{ tokens: 0 }] });
    // A call whose window ended meanwhile counts its tokens in the current one.
    now += WINDOW_MS;
    limiter.release(key, 100);
    expect(limiter.acquire(key).refusedType).toBe('tokens');
  });

  it('holds max_parallel_requests for the life of a call and frees the slot on release, whatever the window', () => {
    const key = [descriptor('api_key', 'k', { maxParallel: 2 })];
    const a = limiter.acquire(key);
    expect(a.usage[0].inFlight).toBe(1);
    expect(limiter.acquire(key).usage[0].inFlight).toBe(2);
    expect(limiter.acquire(key)).toMatchObject({ refusedAt: 0, refusedType: 'max_parallel_requests' });
    now += 10 * WINDOW_MS; // windows do not free slots
    expect(limiter.acquire(key).refusedType).toBe('max_parallel_requests');
    limiter.release(key, 0);
    expect(limiter.acquire(key)).toMatchObject({ refusedAt: -1, usage: [{ inFlight: 2 }] });
    limiter.release(key, 0);
    limiter.release(key, 0);
    expect(limiter.size).toBe(0);
  });

  it('max_parallel_requests=0 refuses every call (LiteLLM test_key_rate_limit), as does rpm_limit=0', () => {
    expect(limiter.acquire([descriptor('api_key', 'a', { maxParallel: 0 })]).refusedType).toBe('max_parallel_requests');
    expect(limiter.acquire([descriptor('api_key', 'b', { rpm: 0 })]).refusedType).toBe('requests');
    expect(limiter.acquire([descriptor('api_key', 'c', { maxParallel: 1 })]).refusedAt).toBe(-1);
  });

  it('is all or nothing across descriptors: a call the team refuses counts neither for the key nor in flight', () => {
    const key = descriptor('api_key', 'k', { rpm: 100, maxParallel: 10 });
    const team = descriptor('team', 't', { rpm: 1 });
    const other = descriptor('api_key', 'other', { rpm: 100 });
    expect(limiter.acquire([key, team]).refusedAt).toBe(-1);
    const refused = limiter.acquire([key, team]);
    expect(refused).toMatchObject({ refusedAt: 1, refusedType: 'requests' });
    expect(refused.usage).toEqual([expect.objectContaining({ requests: 1, inFlight: 1 }), expect.objectContaining({ requests: 1 })]);
    expect(limiter.acquire([key]).usage[0]).toMatchObject({ requests: 2, inFlight: 2 });
    // The team's counter is shared by its keys.
    expect(limiter.acquire([other, team]).refusedAt).toBe(1);
    expect(limiter.acquire([other]).usage[0].requests).toBe(1);
  });

  it('reports the first refusal in descriptor order, requests before tokens before parallel', () => {
    const key = descriptor('api_key', 'k', { rpm: 1, tpm: 10, maxParallel: 1 });
    const user = descriptor('user', 'u', { rpm: 1 });
    limiter.acquire([key, user]);
    limiter.release([key, user], 10);
    expect(limiter.acquire([key, user])).toMatchObject({ refusedAt: 0, refusedType: 'requests' });
    now += WINDOW_MS;
    limiter.acquire([user]);
    expect(limiter.acquire([key, user])).toMatchObject({ refusedAt: 1, refusedType: 'requests' });
  });

  it('bounds memory: ended windows are swept at most once a window', () => {
    for (let index = 0; index < 1000; index++) limiter.acquire([descriptor('api_key', `k${index}`, { rpm: 5 })]);
    expect(limiter.size).toBe(1000);
    now += WINDOW_MS;
    limiter.acquire([descriptor('api_key', 'fresh', { rpm: 5 })]);
    expect(limiter.size).toBe(1);
  });
});
