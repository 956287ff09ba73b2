import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LocalRouterState, RedisRouterState } from './router-state';

const REDIS_URL = 'redis://127.0.0.1:6379';

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

describe('router state', () => {
  it('cools a deployment down on the failure after allowed_fails, for cooldown_time', async () => {
    const state = new LocalRouterState();
    const policy = { allowedFails: 2, cooldownMs: 200 };
    await state.recordFailure('d', policy);
    await state.recordFailure('d', policy);
    expect(state.isCoolingDown('d', Date.now())).toBe(false);
    await state.recordFailure('d', policy);
    expect(state.isCoolingDown('d', Date.now())).toBe(true);
    await until(() => !state.isCoolingDown('d', Date.now()), 1000);
    expect(state.activeCooldowns).toBe(0);
  });

  describe('through the real Redis on 127.0.0.1:6379', () => {
    const logger = new Logger('router-state.spec');
    let a: RedisRouterState;
    let b: RedisRouterState;
    const id = `spec-${randomUUID()}`;

    beforeAll(async () => {
      a = new RedisRouterState(REDIS_URL, logger);
      b = new RedisRouterState(REDIS_URL, logger);
      await Promise.all([a.start([id]), b.start([id])]);
    });
    afterAll(async () => {
      await Promise.all([a.close(), b.close()]);
    });

    it('two instances agree on a cooldown within 1 s, counting both instances\' failures', async () => {
      const policy = { allowedFails: 1, cooldownMs: 2000 };
      await a.recordFailure(id, policy);
      await b.recordFailure(id, policy);
      expect(b.isCoolingDown(id, Date.now())).toBe(true);
      const elapsed = await until(() => a.isCoolingDown(id, Date.now()), 1000);
      expect(elapsed).toBeLessThan(1000);
    });

    it('an instance that starts later takes over the cooldowns in force', async () => {
      const later = new RedisRouterState(REDIS_URL, logger);
      try {
        await later.start([id]);
        expect(later.isCoolingDown(id, Date.now())).toBe(true);
      } finally {
        await later.close();
      }
    });

    it('shares usage of the current minute', async () => {
      const other = `spec-${randomUUID()}`;
      a.recordUsage(other, 120, 1);
      b.recordUsage(other, 30, 1);
      await until(() => false, 50).catch(() => undefined);
      expect(await a.usage([other])).toEqual([{ tokens: 150, requests: 2 }]);
    });
  });
});
