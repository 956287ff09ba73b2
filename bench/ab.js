'use strict';
// A/B of two gateway builds on the same mock, sink and load generator, interleaved, one paused while the other runs.
//   node bench/ab.js <main.js of build A> <main.js of build B>       e.g. a copy of dist/ from another commit
// Env: C (connections, default 10), SECS (per run, 5), REPS (4), MODES (on = 3 destinations, off = logging off; "on,off"),
// BODY_BYTES (pad the chat body with a conversation to about this size, default: one short message),
// NODES (one Node binary per build, comma-separated; default the one running this script), e.g. the same build on two
// runtimes: NODES=/usr/bin/node,node_modules/.bin/node node bench/ab.js dist/src/main.js dist/src/main.js
// EXTRA_CONFIG_0 / EXTRA_CONFIG_1: a YAML file whose sections are appended to that build's config.yaml, e.g. the same
// build without and with router_settings: node bench/ab.js dist/src/main.js dist/src/main.js, EXTRA_CONFIG_1=bench/router-fallbacks.yaml
// GATEWAY_LOG_LEVEL: both gateways' LOG_LEVEL (default warn, as in `npm run bench`); `info` writes an access line per request.
// EXTRA_ENV_0 / EXTRA_ENV_1: more environment for that build's gateway, space-separated NAME=VALUE; `{sink}` stands for
// the log sink's URL, e.g. the same build without and with its own tracing (spans to the sink's /self/v1/traces):
// EXTRA_ENV_1='OTEL_EXPORTER_OTLP_ENDPOINT={sink}/self' node bench/ab.js dist/src/main.js dist/src/main.js
// Prints req/s, p99 and CPU µs/request (the gateway process, including delivering the run's events) per build and mode.
const { join, resolve } = require('node:path');
const os = require('node:os');
const { mkdtempSync, readFileSync } = require('node:fs');
const { startGatehouse, MODEL, ROOT } = require('./lib/gatehouse');
const { startProcess, pause, resume, sleep, runMain } = require('./lib/processes');
const { runLoad } = require('./lib/load');
const { cpuSeconds } = require('./lib/procstat');
const { median } = require('./lib/stats');

const builds = process.argv.slice(2).map((path) => resolve(path));
if (builds.length < 2) {
  console.error('usage: node bench/ab.js <main.js A> <main.js B>');
  process.exit(2);
}
const C = Number(process.env.C || 10);
const SECS = Number(process.env.SECS || 5);
const REPS = Number(process.env.REPS || 4);
const MODES = (process.env.MODES || 'on,off').split(',');
const NODES = process.env.NODES ? process.env.NODES.split(',').map((path) => resolve(path)) : [];

/** One short message, or a conversation of ordinary turns up to about `bytes`. */
function chatBody(bytes) {
  const messages = [{ role: 'user', content: 'Hello, how are you today?' }];
  let body = JSON.stringify({ model: MODEL, messages });
  for (let i = 0; body.length < bytes; i++) {
    messages.unshift({ role: i % 2 ? 'user' : 'assistant', content: `Turn ${i}: the "quarterly report" [draft 3] says revenue grew 4.2 %, costs {opex} fell; please check.` });
    body = JSON.stringify({ model: MODEL, messages });
  }
  return body;
}

/** `NAME=VALUE NAME2=VALUE` (values without spaces), `{sink}` replaced by the sink's URL. */
function extraEnvOf(text, sinkUrl) {
  const env = {};
  for (const pair of (text || '').split(/\s+/).filter(Boolean)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`EXTRA_ENV: ${pair} is not NAME=VALUE`);
    env[pair.slice(0, equals)] = pair.slice(equals + 1).replaceAll('{sink}', sinkUrl);
  }
  return env;
}

runMain(async () => {
  const tmpDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-ab-'));
  const mock = startProcess('mock upstream', process.execPath, [join(__dirname, 'servers', 'mock-upstream.js')], { readyLine: /READY (\d+)/ });
  const sink = startProcess('log sink', process.execPath, [join(__dirname, 'servers', 'log-sink.js')], { readyLine: /READY (\d+) (\d+)/, cwd: ROOT });
  const [, mockPort] = await mock.ready;
  const [, sinkPort, sinkDownPort] = await sink.ready;
  const gateways = [];
  for (const [i, mainJs] of builds.entries()) {
    const extra = process.env[`EXTRA_CONFIG_${i}`];
    const extraConfig = extra ? `\n${readFileSync(resolve(extra), 'utf8')}` : '';
    const extraEnv = {
      ...(process.env.GATEWAY_LOG_LEVEL ? { LOG_LEVEL: process.env.GATEWAY_LOG_LEVEL } : {}),
      ...extraEnvOf(process.env[`EXTRA_ENV_${i}`], `http://127.0.0.1:${sinkPort}`),
    };
    if (Object.keys(extraEnv).length > 0) console.log(`build ${i} environment: ${Object.keys(extraEnv).join(', ')}`);
    gateways.push(await startGatehouse({ label: `ab${i}`, tmpDir, mockPort, sinkPort, sinkDownPort, mainJs, node: NODES[i], extraConfig, extraEnv }));
  }
  const body = chatBody(Number(process.env.BODY_BYTES || 0));
  console.log(`chat body: ${Buffer.byteLength(body)} bytes`);
  const results = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const mode of MODES) {
      for (let k = 0; k < gateways.length; k++) {
        const i = (k + rep) % gateways.length;
        const gateway = gateways[i];
        for (const other of gateways) (other === gateway ? resume : pause)(other.proc);
        const key = mode === 'on' ? gateway.keys.loggingOn : gateway.keys.loggingOff;
        const target = { url: `${gateway.baseUrl}/v1/chat/completions`, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } };
        await runLoad({ target, connections: C, seconds: 1, tmpDir }).catch((error) => {
          const exited = gateway.proc.child.exitCode ?? gateway.proc.child.signalCode;
          throw new Error(`${error.message.trim()}; build ${i} ${exited === null ? 'still running' : `exited (${exited})`}; its last output:\n${gateway.proc.output().slice(-3000)}`);
        });
        await sleep(1500); // the warm-up's events are delivered before the measured window
        const before = cpuSeconds(gateway.proc.measuredPid);
        const run = await runLoad({ target, connections: C, seconds: SECS, tmpDir });
        await sleep(mode === 'on' ? 1500 : 100); // delivery of the run's events counts
        const cpu = ((cpuSeconds(gateway.proc.measuredPid) - before) / run.requests) * 1e6;
        (results[`${i} ${mode}`] ??= []).push({ rps: run.rps, cpu, p99: run.p99 });
        console.log(`rep ${rep} build ${i} (${NODES[i] ? `${NODES[i]} ` : ''}${builds[i]}) logging ${mode}: ${run.rps.toFixed(0)} req/s, p99 ${run.p99} ms, ${cpu.toFixed(0)} µs/request`);
      }
    }
  }
  for (const [name, runs] of Object.entries(results)) {
    console.log(`build ${name}: median ${median(runs.map((r) => r.rps)).toFixed(0)} req/s, p99 ${median(runs.map((r) => r.p99)).toFixed(1)} ms, ${median(runs.map((r) => r.cpu)).toFixed(0)} µs/request`);
  }
  // Pairwise: build 1 ÷ build 0 in the same repetition and mode (what a noisy machine moves least).
  for (const mode of MODES) {
    const a = results[`0 ${mode}`] ?? [];
    const b = results[`1 ${mode}`] ?? [];
    const ratios = a.map((run, rep) => (b[rep] ? b[rep].cpu / run.cpu : NaN)).filter((r) => Number.isFinite(r));
    if (ratios.length > 0) console.log(`logging ${mode}: CPU/request build 1 ÷ build 0 per repetition ${ratios.map((r) => r.toFixed(3)).join(' ')} → median ${median(ratios).toFixed(3)}`);
  }
  const stats = await (await fetch(`http://127.0.0.1:${sinkPort}/__stats`)).json();
  if (stats.self_trace_requests > 0) console.log(`gateway traces at the sink: ${stats.self_trace_requests} exports, ${stats.self_trace_bytes} bytes`);
  for (const [i, gateway] of gateways.entries()) {
    const notes = gateway.proc.output().split('\n').filter((line) => /OpenTelemetry|Dropped|"level":(40|50)/.test(line));
    if (notes.length > 0) console.log(`build ${i}: ${notes.length} warning line(s) in its output, last: ${notes.at(-1).slice(0, 300)}`);
  }
});
