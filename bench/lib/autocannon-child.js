'use strict';
// Runs one autocannon load in its own process (so the load generator never shares the benchmark's event loop)
// and prints `BENCHJSON {...}` in the shape of bench/lib/load.js.
const autocannon = require('autocannon');

const options = JSON.parse(process.argv[2]);
autocannon(
  {
    url: options.url,
    method: options.method,
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.duration,
    timeout: 10,
  },
  (error, result) => {
    if (error) {
      console.error(error);
      process.exit(1);
    }
    const requests = result.requests.total;
    const seconds = result.duration;
    process.stdout.write(
      `BENCHJSON ${JSON.stringify({
        requests,
        seconds,
        rps: requests / seconds,
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
      })}\n`,
    );
  },
);
