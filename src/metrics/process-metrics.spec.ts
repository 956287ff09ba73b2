import perfHooks from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { startProcessMetrics } from './process-metrics';

const hooks: Pick<typeof perfHooks, 'monitorEventLoopDelay' | 'PerformanceObserver'> = perfHooks;

describe(startProcessMetrics.name, () => {
  it("registers prom-client's process_* and nodejs_* metrics on the registry it is given, and no other", async () => {
    const registry = new Registry();
    const running = startProcessMetrics(registry);
    try {
      const text = await registry.metrics();
      for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'nodejs_version_info']) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      // Two apps in one process each get their own.
      const second = startProcessMetrics(new Registry());
      second.stop();
      expect(await new Registry().metrics()).not.toContain('process_cpu');
    } finally {
      running.stop();
    }
  });

  it('stops the event-loop monitor and the GC observer it started, and leaves perf_hooks as it was', () => {
    const { monitorEventLoopDelay, PerformanceObserver } = hooks;
    const monitors: ReturnType<typeof monitorEventLoopDelay>[] = [];
    const observers: InstanceType<typeof PerformanceObserver>[] = [];
    hooks.monitorEventLoopDelay = (options) => {
      const monitor = monitorEventLoopDelay(options);
      monitors.push(monitor);
      return monitor;
    };
    hooks.PerformanceObserver = class extends PerformanceObserver {
      constructor(callback: ConstructorParameters<typeof PerformanceObserver>[0]) {
        super(callback);
        observers.push(this);
      }
    };
    let running: { stop(): void };
    try {
      running = startProcessMetrics(new Registry());
      // The wrappers are gone once prom-client has set up: the test's own are back.
      expect(hooks.monitorEventLoopDelay).not.toBe(monitorEventLoopDelay);
    } finally {
      hooks.monitorEventLoopDelay = monitorEventLoopDelay;
      hooks.PerformanceObserver = PerformanceObserver;
    }
    expect(monitors).toHaveLength(1);
    expect(observers).toHaveLength(1);
    const disconnect = jest.spyOn(observers[0], 'disconnect');
    running.stop();
    expect(disconnect).toHaveBeenCalledTimes(1);
    // disable() answers whether it was enabled: it was not any more.
    expect(monitors[0].disable()).toBe(false);
  });
});
