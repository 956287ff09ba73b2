'use strict';
// CPU time per streamed event of the SSE relay alone (src/completions/sse-relay.ts), in process, for one or more
// builds side by side (interleaved repetitions, process CPU time rather than wall time, so other load on the machine
// moves the numbers less). Both relay paths: the caller without `include_usage` (events re-assembled, the usage
// chunk stripped) and with it (upstream bytes passed through).
//   node bench/relay-cost.js dist /path/to/other/build/dist
// Env: STREAMS (per run, default 2000), REPS (default 9). A stream is 64 OpenAI-shaped chunks, a usage chunk, [DONE].
const { join, resolve } = require('node:path');

const dists = process.argv.slice(2).map((path) => resolve(path));
if (dists.length === 0) dists.push(resolve(__dirname, '..', 'dist'));
const STREAMS = Number(process.env.STREAMS || 2000);
const REPS = Number(process.env.REPS || 9);
const relays = dists.map((dist) => require(join(dist, 'src', 'completions', 'sse-relay.js')));

const event = (data) => Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
const base = { id: 'chatcmpl-0123456789', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', system_fingerprint: 'fp_0123' };
const chunks = Array.from({ length: 64 }, (_, i) => event({ ...base, choices: [{ index: 0, delta: { content: ` tok${i}` }, logprobs: null, finish_reason: null }], usage: null }));
chunks.push(event({ ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 64, total_tokens: 73 } }));
chunks.push(Buffer.from('data: [DONE]\n\n'));

function oneStream(Relay, strip) {
  const relay = new Relay(strip);
  let bytes = 0;
  for (const chunk of chunks) bytes += relay.push(chunk).length;
  return bytes + relay.end().length;
}

function cpuPerEvent(Relay, strip, streams) {
  const start = process.cpuUsage();
  for (let i = 0; i < streams; i++) oneStream(Relay, strip);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / streams / chunks.length;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`node ${process.version}; ${chunks.length} events per stream, ${STREAMS} streams per run, ${REPS} repetitions`);
for (const strip of [true, false]) {
  const runs = dists.map(() => []);
  for (let rep = 0; rep < REPS; rep++) {
    for (let k = 0; k < relays.length; k++) {
      const i = (k + rep) % relays.length;
      cpuPerEvent(relays[i].SseRelay, strip, Math.ceil(STREAMS / 10));
      runs[i].push(cpuPerEvent(relays[i].SseRelay, strip, STREAMS));
    }
  }
  const path = strip ? 'usage chunk stripped (caller without include_usage)' : 'passed through (caller with include_usage)';
  for (const [i, dist] of dists.entries()) {
    console.log(`${path.padEnd(54)} ${dist.padEnd(40)} ${median(runs[i]).toFixed(3)} µs/event (min ${Math.min(...runs[i]).toFixed(3)}, max ${Math.max(...runs[i]).toFixed(3)})`);
  }
}
