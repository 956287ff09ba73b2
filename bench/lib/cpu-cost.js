'use strict';
// Shared by the in-process provider cost benches (bedrock-cost.js, anthropic-cost.js): the OpenAI-compatible path's
// cost for the same call, as the baseline each provider is shown beside, and the runner that measures process CPU
// time over interleaved repetitions and prints the medians.
const { join, resolve } = require('node:path');

const dist = resolve(__dirname, '..', '..', 'dist', 'src', 'completions');
const { upstreamBody } = require(join(dist, 'request-body.js'));
const { SseRelay } = require(join(dist, 'sse-relay.js'));

const words = (n) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

/** The chat body every provider bench translates: a system prompt, a user message, two sampling parameters. */
const benchBody = {
  model: 'claude',
  messages: [
    { role: 'system', content: `You are a helpful assistant. ${words(40)}` },
    { role: 'user', content: `Please summarise the following. ${words(80)}` },
  ],
  max_tokens: 256,
  temperature: 0.2,
};
const answerText = words(60);

/** What the OpenAI-compatible path does for the same call: the upstream body, the answer parsed once, 64 token events relayed. */
function openAiBaseline() {
  const openAiAnswer = Buffer.from(JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: answerText }, finish_reason: 'stop' }], usage: { prompt_tokens: 180, completion_tokens: 90, total_tokens: 270 } }));
  const sse = (data) => Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
  const base = { id: 'chatcmpl-0123456789', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini' };
  const events = Array.from({ length: 64 }, (_, i) => sse({ ...base, choices: [{ index: 0, delta: { content: ` tok${i}` }, finish_reason: null }] }));
  events.push(sse({ ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 64, total_tokens: 73 } }), Buffer.from('data: [DONE]\n\n'));
  return {
    request: { per: 'call', run: (n) => { for (let i = 0; i < n; i++) upstreamBody(benchBody, 'gpt-4o', false); } },
    answer: { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.parse(openAiAnswer.toString()); } },
    stream: { per: 'event', events: events.length, run: (n) => { for (let i = 0; i < n; i++) { const relay = new SseRelay(true); for (const e of events) relay.push(e); relay.end(); } } },
  };
}

async function cpu(measure, n) {
  const start = process.cpuUsage();
  await measure.run(n);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n / (measure.per === 'event' ? measure.events : 1);
}

/** Runs every measure `reps` times, interleaved (a warm-up tenth before each), and prints each one's median. */
async function reportCpu(measures, { calls, reps, title }) {
  const names = Object.keys(measures);
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + rep) % names.length];
      const count = measures[name].per === 'event' ? Math.ceil(calls / 10) : calls;
      await cpu(measures[name], Math.ceil(count / 10));
      runs[name].push(await cpu(measures[name], count));
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`node ${process.version}; ${title}, ${reps} repetitions; CPU µs, median (min–max)`);
  for (const name of names) {
    const r = runs[name];
    console.log(`${name.padEnd(50)} ${median(r).toFixed(2).padStart(7)} µs/${measures[name].per}  (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`);
  }
}

module.exports = { answerText, benchBody, dist, openAiBaseline, reportCpu };
