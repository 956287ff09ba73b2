import type { RoutingStrategy } from '../../config/gateway-config.types';
import type { CompiledDeployment, ModelGroup } from '../deployment-table';
import { DeploymentChooser } from './deployment-chooser';
import { LocalRouterState } from './router-state';

function deployment(modelId: string, routing: Partial<Pick<CompiledDeployment, 'weight' | 'rpm' | 'tpm'>> = {}): CompiledDeployment {
  return { modelId, modelName: 'm', weight: null, rpm: null, tpm: null, ...routing } as CompiledDeployment;
}

function group(...deployments: CompiledDeployment[]): ModelGroup {
  return { name: 'm', deployments, accessGroups: [], cursor: 0 };
}

function chooser(strategy: RoutingStrategy, state = new LocalRouterState(), latencyBuffer = 0): DeploymentChooser {
  return new DeploymentChooser({ strategy, latencyBuffer, latencyTtlMs: 60_000, latencySamples: 10 }, state);
}

function pickSync(c: DeploymentChooser, g: ModelGroup, tried: CompiledDeployment[] | null = null): CompiledDeployment | null {
  const picked = c.choose(g, tried);
  if (picked instanceof Promise) throw new Error('expected a synchronous choice');
  return picked;
}

function spread(c: DeploymentChooser, g: ModelGroup, calls: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < calls; i++) {
    const id = (pickSync(c, g) as CompiledDeployment).modelId;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe(DeploymentChooser.name, () => {
  it('simple-shuffle spreads 1,000 calls by weight, each deployment within ±10 % of its share', () => {
    // A seeded uniform generator in place of Math.random, so the bound holds for the small share too on every run.
    let seed = 42;
    const random = jest.spyOn(Math, 'random').mockImplementation(() => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    });
    try {
      const g = group(deployment('a', { weight: 6 }), deployment('b', { weight: 3 }), deployment('c', { weight: 1 }));
      const counts = spread(chooser('simple-shuffle'), g, 1000);
      for (const [id, expected] of [['a', 600], ['b', 300], ['c', 100]] as const) {
        expect(Math.abs((counts.get(id) ?? 0) - expected)).toBeLessThanOrEqual(expected * 0.1);
      }
    } finally {
      random.mockRestore();
    }
  });

  it('simple-shuffle with Math.random itself stays near the weights (a loose bound, 1,000 calls)', () => {
    const counts = spread(chooser('simple-shuffle'), group(deployment('a', { weight: 3 }), deployment('b', { weight: 1 })), 1000);
    expect(Math.abs((counts.get('a') ?? 0) - 750)).toBeLessThanOrEqual(75);
  });

  it('simple-shuffle weighs by rpm, else tpm, when no deployment sets a weight; without any it goes round robin', () => {
    const byRpm = spread(chooser('simple-shuffle'), group(deployment('a', { rpm: 300 }), deployment('b', { rpm: 100 })), 1000);
    expect(Math.abs((byRpm.get('a') ?? 0) - 750)).toBeLessThanOrEqual(100);
    const byTpm = spread(chooser('simple-shuffle'), group(deployment('a', { tpm: 1000 }), deployment('b', { tpm: 1000 })), 1000);
    expect(Math.abs((byTpm.get('a') ?? 0) - 500)).toBeLessThanOrEqual(100);
    const even = group(deployment('a'), deployment('b'), deployment('c'));
    const c = chooser('simple-shuffle');
    expect([1, 2, 3, 4].map(() => pickSync(c, even)?.modelId)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('skips deployments that are cooling down or already tried, and finds none when all are', async () => {
    const state = new LocalRouterState();
    const a = deployment('a', { weight: 1 });
    const b = deployment('b', { weight: 1 });
    const g = group(a, b);
    const c = chooser('simple-shuffle', state);
    await state.recordFailure('a', { allowedFails: 0, cooldownMs: 60_000 });
    expect(new Set(Array.from({ length: 50 }, () => pickSync(c, g)?.modelId))).toEqual(new Set(['b']));
    expect(pickSync(c, g, [b])).toBeNull();
  });

  it('least-busy picks the deployment with the fewest calls in flight', () => {
    const a = deployment('a');
    const b = deployment('b');
    const c = chooser('least-busy');
    c.statsOf(a).inFlight = 3;
    c.statsOf(b).inFlight = 1;
    expect(pickSync(c, group(a, b))).toBe(b);
  });

  it('latency-based routing prefers the fastest, and shares with those within the buffer', () => {
    const a = deployment('a');
    const b = deployment('b');
    const strict = chooser('latency-based-routing');
    strict.recordLatency(a, 100);
    strict.recordLatency(b, 120);
    expect(new Set(Array.from({ length: 50 }, () => pickSync(strict, group(a, b))?.modelId))).toEqual(new Set(['a']));
    const buffered = chooser('latency-based-routing', new LocalRouterState(), 0.5);
    buffered.recordLatency(a, 100);
    buffered.recordLatency(b, 120);
    expect(new Set(Array.from({ length: 100 }, () => pickSync(buffered, group(a, b))?.modelId))).toEqual(new Set(['a', 'b']));
  });

  it('usage-based routing picks the lowest tokens this minute and skips deployments at their tpm or rpm', async () => {
    const state = new LocalRouterState();
    const a = deployment('a', { tpm: 1000 });
    const b = deployment('b', { tpm: 1000, rpm: 2 });
    const c = chooser('usage-based-routing-v2', state);
    state.recordUsage('a', 500, 1);
    state.recordUsage('b', 100, 1);
    expect(await c.choose(group(a, b), null)).toBe(b);
    state.recordUsage('b', 0, 1);
    expect(await c.choose(group(a, b), null)).toBe(a);
    state.recordUsage('a', 500, 0);
    expect(await c.choose(group(a, b), null)).toBeNull();
  });
});
