import perfHooks from 'node:perf_hooks';
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** The module object itself (a default import of a CommonJS module is the module), with the two factories writable. */
const hooks: Pick<typeof perfHooks, 'monitorEventLoopDelay' | 'PerformanceObserver'> = perfHooks;

interface Stoppable {
  stop(): void;
}

/**
 * prom-client's default `process_*` and `nodejs_*` metrics on `registry`. Returns what stops them.
 *
 * Two of them keep something running that prom-client offers no way to stop: an event-loop delay monitor (a timer
 * sampling every 10 ms) and a performance observer of garbage collections. Each app has its own registry (tests run
 * several apps in one process), so each app starts its own, and an app that closes must stop them or every app a test
 * run made keeps sampling. They are caught as prom-client creates them, during its synchronous setup: the two
 * perf_hooks factories it calls are wrapped for that one call.
 */
export function startProcessMetrics(registry: Registry): Stoppable {
  const running: Stoppable[] = [];
  const { monitorEventLoopDelay, PerformanceObserver } = hooks;
  hooks.monitorEventLoopDelay = (options) => {
    const monitor = monitorEventLoopDelay(options);
    running.push({ stop: () => monitor.disable() });
    return monitor;
  };
  hooks.PerformanceObserver = class extends PerformanceObserver {
    constructor(callback: ConstructorParameters<typeof PerformanceObserver>[0]) {
      super(callback);
      running.push({ stop: () => this.disconnect() });
    }
  };
  try {
    collectDefaultMetrics({ register: registry });
  } finally {
    hooks.monitorEventLoopDelay = monitorEventLoopDelay;
    hooks.PerformanceObserver = PerformanceObserver;
  }
  return {
    stop: () => {
      for (const each of running.splice(0)) each.stop();
    },
  };
}
