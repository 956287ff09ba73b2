import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../config/redis-environment';
import type { Descriptor } from './rate-limit-descriptors';
import { RedisLimiter, SLOT_TTL_MS } from './redis-limiter';

const CONNECTION: RedisConnection = { url: 'redis://127.0.0.1:6379', host: null, port: 6379, username: undefined, password: undefined, db: 0, tls: false };
const hooks = { onError: () => undefined, onReady: () => undefined };

/** The shared limiter against the real Redis on 127.0.0.1:6379; every test counts under descriptors of its own. */
describe('RedisLimiter (real Redis)', () => {
  let a: RedisLimiter;
  let b: RedisLimiter;
  let inspector: Redis;
  let run: string;

  beforeAll(async () => {
    a = new RedisLimiter(CONNECTION, 60_000, hooks);
    b = new RedisLimiter(CONNECTION, 60_000, hooks);
    await Promise.all([a.connect(), b.connect()]);
    inspector = new Redis(CONNECTION.url as string, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    a.close();
    b.close();
    await inspector.quit();
  });

  beforeEach(() => {
    run = randomUUID();
  });

  function descriptor(name: Descriptor['name'], limits: Partial<Pick<Descriptor, 'rpm' | 'tpm' | 'maxParallel'>>): Descriptor {
    const value = `${run}-${name}`;
    return { name, value, counterKey: `${name}:${value}`, rpm: limits.rpm ?? null, tpm: limits.tpm ?? null, maxParallel: limits.maxParallel ?? null };
  }

  it('two instances share one exact window: rpm_limit=10 admits 10 of 30 alternating calls', async () => {
    const key = [descriptor('api_key', { rpm: 10 })];
    let admitted = 0;
    for (let index = 0; index < 30; index++) {
      const { decision } = await (index % 2 === 0 ? a : b).acquire(key);
      if (decision.refusedAt === -1) admitted++;
    }
    expect(admitted).toBe(10);
    const pttl = await inspector.pttl(`gatehouse:ratelimit:${key[0].counterKey}:window`);
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('is exact under concurrency too: 50 calls at once against rpm_limit=7', async () => {
    const key = [descriptor('api_key', { rpm: 7 })];
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => (index % 2 === 0 ? a : b).acquire(key)));
    expect(results.filter(({ decision }) => decision.refusedAt === -1)).toHaveLength(7);
  });

  it('is all or nothing: a call the team refuses counts for no descriptor', async () => {
    const key = descriptor('api_key', { rpm: 100, maxParallel: 5 });
    const team = descriptor('team', { rpm: 1 });
    expect((await a.acquire([key, team])).decision.refusedAt).toBe(-1);
    const refused = await b.acquire([key, team]);
    expect(refused.decision).toMatchObject({ refusedAt: 1, refusedType: 'requests' });
    expect((await a.acquire([key])).decision.usage[0]).toMatchObject({ requests: 2, inFlight: 2 });
  });

  it('counts tokens on release and holds parallel slots until then', async () => {
    const key = [descriptor('api_key', { tpm: 100, maxParallel: 1 })];
    const first = await a.acquire(key);
    expect(first.decision.usage[0]).toMatchObject({ inFlight: 1, tokens: 0 });
    expect((await b.acquire(key)).decision).toMatchObject({ refusedAt: 0, refusedType: 'max_parallel_requests' });
    await a.release(first.slot, 100);
    const after = await b.acquire(key);
    expect(after.decision).toMatchObject({ refusedAt: 0, refusedType: 'tokens', usage: [{ tokens: 100, inFlight: 0 }] });
  });

  it('frees the slot of a call whose instance never released it once the slot lapses', async () => {
    const key = [descriptor('api_key', { maxParallel: 1 })];
    await a.acquire(key);
    const slots = `gatehouse:ratelimit:${key[0].counterKey}:parallel`;
    const [member, scoreText] = await inspector.zrange(slots, 0, -1, 'WITHSCORES');
    const score = Number(scoreText);
    expect(member).toContain(':');
    const [seconds, micros] = await inspector.time();
    const serverNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    expect(score - serverNow).toBeGreaterThan(SLOT_TTL_MS - 5_000);
    // As if the slot's lapse time had come (the instance crashed and stopped renewing it).
    await inspector.zadd(slots, 'XX', serverNow - 1, member);
    expect((await b.acquire(key)).decision.refusedAt).toBe(-1);
  });
});
