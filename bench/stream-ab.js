'use strict';
// Streaming A/B of two gateway builds (scenario 7's method: c = 1, 8 and 64 content chunks, logging off), interleaved,
// one build paused while the other runs. Both relay paths are measured: the caller without `include_usage` (the
// gateway strips the usage chunk it asked for: events re-assembled as text) and with it (upstream bytes passed through).
//   node bench/stream-ab.js <main.js of build A> <main.js of build B>
// Env: SECS (per run, default 3), REPS (default 4).
// Prints, per build and path: CPU µs/stream at 8 and 64 chunks, CPU µs per extra chunk, TTFT p50 and total p50.
const { join, resolve } = require('node:path');
const os = require('node:os');
const { mkdtempSync } = require('node:fs');
const { startGatehouse, MODEL, ROOT } = require('./lib/gatehouse');
const { startProcess, pause, resume, sleep, runMain } = require('./lib/processes');
const { streamLoop } = require('./lib/stream-probe');
const { cpuSeconds } = require('./lib/procstat');
const { median } = require('./lib/stats');

const builds = process.argv.slice(2).map((path) => resolve(path));
if (builds.length < 2) {
  console.error('usage: node bench/stream-ab.js <main.js A> <main.js B>');
  process.exit(2);
}
const SECS = Number(process.env.SECS || 3);
const REPS = Number(process.env.REPS || 4);
const CHUNKS = [8, 64];
const PATHS = { strip: {}, usage: { stream_options: { include_usage: true } } };

runMain(async () => {
  const tmpDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-stream-ab-'));
  const mock = startProcess('mock upstream', process.execPath, [join(__dirname, 'servers', 'mock-upstream.js')], { readyLine: /READY (\d+)/ });
  const sink = startProcess('log sink', process.execPath, [join(__dirname, 'servers', 'log-sink.js')], { readyLine: /READY (\d+) (\d+)/, cwd: ROOT });
  const [, mockPort] = await mock.ready;
  const [, sinkPort, sinkDownPort] = await sink.ready;
  const gateways = [];
  for (const [i, mainJs] of builds.entries()) gateways.push(await startGatehouse({ label: `sab${i}`, tmpDir, mockPort, sinkPort, sinkDownPort, mainJs }));
  const results = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const [path, extra] of Object.entries(PATHS)) {
      for (const chunks of CHUNKS) {
        for (let k = 0; k < gateways.length; k++) {
          const i = (k + rep) % gateways.length;
          const gateway = gateways[i];
          for (const other of gateways) (other === gateway ? resume : pause)(other.proc);
          await sleep(100);
          const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello' }], stream: true, bench_chunks: chunks, ...extra });
          const target = { url: `${gateway.baseUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${gateway.keys.loggingOff}` }, body };
          await streamLoop({ ...target, seconds: 0.5 });
          const before = cpuSeconds(gateway.proc.measuredPid);
          const run = await streamLoop({ ...target, seconds: SECS });
          const cpu = ((cpuSeconds(gateway.proc.measuredPid) - before) / run.requests) * 1e6;
          if (run.errors) throw new Error(`build ${i}: ${run.errors} stream(s) failed`);
          (results[`${i} ${path} ${chunks}`] ??= []).push({ cpu, ttft: median(run.ttft), total: median(run.total) });
          console.log(`rep ${rep} build ${i} ${path} ${chunks} chunks: ${run.requests} streams, ${cpu.toFixed(0)} µs/stream, TTFT p50 ${median(run.ttft).toFixed(3)} ms`);
        }
      }
    }
  }
  console.log('\nmedians over repetitions');
  for (let i = 0; i < builds.length; i++) {
    for (const path of Object.keys(PATHS)) {
      const at = (chunks) => results[`${i} ${path} ${chunks}`];
      const m = (chunks, field) => median(at(chunks).map((r) => r[field]));
      const perChunk = median(at(64).map((r, rep) => (r.cpu - at(8)[rep].cpu) / (64 - 8)));
      console.log(
        `build ${i} (${builds[i]}) ${path.padEnd(5)}: ${m(8, 'cpu').toFixed(0)} / ${m(64, 'cpu').toFixed(0)} µs per stream (8 / 64 chunks), ` +
          `${perChunk.toFixed(2)} µs per extra chunk, TTFT p50 ${m(8, 'ttft').toFixed(3)} ms, total p50 ${m(64, 'total').toFixed(3)} ms (64)`,
      );
    }
  }
});
