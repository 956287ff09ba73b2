'use strict';
/**
 * Test-only preload (`NODE_OPTIONS=--require …`): writes, for one thread of the process, the files it has loaded that
 * belong to OpenTelemetry or to the gateway's tracing implementation, and what is registered in OpenTelemetry's
 * global API slot (a tracer provider, a context manager, a propagator, a diag logger), as JSON to
 * `$LOADED_MODULES_FILE.<threadId>.json`. The main thread writes when it exits; a worker thread (the delivery thread)
 * is terminated without an 'exit' event, so it writes every 100 ms as well.
 */
const { writeFileSync } = require('node:fs');
const { isMainThread, threadId } = require('node:worker_threads');

const target = process.env.LOADED_MODULES_FILE;
if (target) {
  const write = () => {
    const loaded = Object.keys(require.cache).filter((path) => path.includes('@opentelemetry') || /[\\/]tracing[\\/]otel-tracing\.js$/.test(path));
    const api = globalThis[Symbol.for('opentelemetry.js.api.1')];
    const registered = api ? Object.keys(api).filter((key) => key !== 'version') : [];
    writeFileSync(`${target}.${threadId}.json`, JSON.stringify({ loaded, registered }));
  };
  process.on('exit', write);
  if (!isMainThread) setInterval(write, 100).unref();
}
