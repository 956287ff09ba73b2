'use strict';
// What the request log context costs per request (issue 28): two builds' request middleware and root logger, in this
// process, on the same fake request, interleaved.
//   node bench/log-context-cost.js <dist of build A> <dist of build B>      e.g. /tmp/base/dist dist
// Env: N (requests per run, default 200000), REPS (5), LEVEL (the logger's level, default info: the access line is
// written, to a destination that drops it after pino has serialised it), LINES (lines each request writes through
// Nest's logger besides the access line, default 0: what a call writes at info).
// Prints CPU µs per request (user + system of this process) per build, median of the runs, and the difference.
const { EventEmitter } = require('node:events');
const { resolve, join } = require('node:path');

const dists = process.argv.slice(2).map((path) => resolve(path));
if (dists.length < 2) {
  console.error('usage: node bench/log-context-cost.js <dist A> <dist B>');
  process.exit(2);
}
const N = Number(process.env.N || 200_000);
const REPS = Number(process.env.REPS || 5);
const LEVEL = process.env.LEVEL || 'info';
const LINES = Number(process.env.LINES || 0);

/** A pino destination that keeps nothing: the cost measured is building and serialising the line. */
const nowhere = { write() {} };

function load(dist) {
  const { requestContextMiddleware } = require(join(dist, 'src', 'common', 'request-context.js'));
  const { createRootLogger, PinoNestLogger } = require(join(dist, 'src', 'common', 'app-logger.js'));
  // The logger's signature changed in issue 28: (level, destination) before, ({ level, destination }) after.
  const root = createRootLogger.length === 2 ? createRootLogger(LEVEL, nowhere) : createRootLogger({ level: LEVEL, destination: nowhere, format: 'json' });
  return { middleware: requestContextMiddleware(root), nest: new PinoNestLogger(root) };
}

/** One request: the middleware, an async hop (the handler awaits), LINES service lines, then the response closes. */
function serve({ middleware, nest }) {
  const request = { headers: {}, method: 'POST', path: '/v1/chat/completions', route: { path: '/v1/chat/completions' } };
  const response = new EventEmitter();
  response.statusCode = 200;
  response.writableFinished = true;
  response.setHeader = () => undefined;
  return new Promise((done) => {
    middleware(request, response, () => {
      void Promise.resolve().then(() => {
        for (let i = 0; i < LINES; i++) nest.warn('a service line while serving the request', 'CompletionsService');
        response.emit('close');
        done();
      });
    });
  });
}

async function run(build) {
  for (let i = 0; i < 2_000; i++) await serve(build); // warm-up
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) await serve(build);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / N;
}

async function main() {
  const builds = dists.map(load);
  const results = builds.map(() => []);
  for (let rep = 0; rep < REPS; rep++) {
    for (let k = 0; k < builds.length; k++) {
      const i = (k + rep) % builds.length;
      results[i].push(await run(builds[i]));
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const medians = results.map(median);
  console.log(`Node ${process.version}, level ${LEVEL}, ${LINES} extra line(s) per request, ${N} requests × ${REPS} runs`);
  for (const [i, dist] of dists.entries()) console.log(`build ${i} (${dist}): ${medians[i].toFixed(3)} µs/request (runs: ${results[i].map((v) => v.toFixed(3)).join(', ')})`);
  console.log(`difference B - A: ${(medians[1] - medians[0]).toFixed(3)} µs/request`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
