'use strict';
// What CORS costs per request, in process, on the built code (dist/): ns per call of the cors middleware as
// bootstrap.ts installs it (Nest's enableCors with corsOptionsDelegate), for a call without an Origin header (servers,
// SDKs, curl: no CORS headers are written) and for a browser's call (Origin set: allow-origin and expose-headers).
//   node bench/cors-cost.js            (after npm run build)
const { join } = require('node:path');

const cors = require('cors');
const { corsOptionsDelegate } = require(join(__dirname, '..', 'dist', 'src', 'common', 'cors'));

const ROUNDS = 5;
const CALLS = 500_000;

function response() {
  const headers = {};
  return { setHeader: (name, value) => (headers[name.toLowerCase()] = value), getHeader: (name) => headers[name.toLowerCase()] };
}

function nsPerCall(middleware, request) {
  const res = response();
  const next = () => undefined;
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) middleware(request, res, next);
  return Number(process.hrtime.bigint() - started) / CALLS;
}

const server = { method: 'POST', headers: { authorization: 'Bearer sk-x', 'content-type': 'application/json' } };
const browser = { method: 'POST', headers: { ...server.headers, origin: 'https://app.example.com' } };
for (const [label, origins] of [['CORS_ORIGINS=*', ['*']], ['CORS_ORIGINS=<2 origins>', ['https://app.example.com', 'http://localhost:3000']]]) {
  const middleware = cors(corsOptionsDelegate({ origins, allowCredentials: !origins.includes('*') }));
  const results = { server: [], browser: [] };
  for (let round = 0; round < ROUNDS; round++) {
    results.server.push(nsPerCall(middleware, server));
    results.browser.push(nsPerCall(middleware, browser));
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)].toFixed(0);
  console.log(`${label}: no Origin ${median(results.server)} ns/request, with Origin ${median(results.browser)} ns/request (median of ${ROUNDS} rounds of ${CALLS})`);
}
