'use strict';
// CPU time the Anthropic provider adds per call, in process, on the built code (dist/): building the Messages
// request, translating its answer, and translating a Messages stream event by event — each beside what the
// OpenAI-compatible path does for the same call (the upstream body; the answer parsed once for the record; the SSE
// relay's cost per event). Process CPU time, interleaved repetitions, median.
//   npm run build && node bench/anthropic-cost.js
// Env: CALLS (per run, default 5000), REPS (default 7).
const { join, resolve } = require('node:path');

const dist = resolve(__dirname, '..', 'dist', 'src', 'completions');
const { upstreamBody } = require(join(dist, 'request-body.js'));
const { SseRelay } = require(join(dist, 'sse-relay.js'));
const { ChunkRelay } = require(join(dist, 'chunk-relay.js'));
const { messagesRequest } = require(join(dist, 'providers', 'anthropic', 'messages-request.js'));
const { chatCompletion } = require(join(dist, 'providers', 'anthropic', 'messages-answer.js'));
const { MessagesStreamTranslator } = require(join(dist, 'providers', 'anthropic', 'messages-stream.js'));

const CALLS = Number(process.env.CALLS || 5000);
const REPS = Number(process.env.REPS || 7);
const MODEL = 'claude-sonnet-4-5-20250929';
const words = (n) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
const body = {
  model: 'claude',
  messages: [
    { role: 'system', content: `You are a helpful assistant. ${words(40)}` },
    { role: 'user', content: `Please summarise the following. ${words(80)}` },
  ],
  max_tokens: 256,
  temperature: 0.2,
};
const call = { endpoint: 'chat', stream: false, body, upstreamModel: MODEL, callId: 'bench' };
const answerText = words(60);
const messagesAnswer = Buffer.from(
  JSON.stringify({ id: 'msg_01bench', type: 'message', role: 'assistant', model: MODEL, content: [{ type: 'text', text: answerText }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 180, output_tokens: 90 } }),
);
const openAiAnswer = Buffer.from(JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: answerText }, finish_reason: 'stop' }], usage: { prompt_tokens: 180, completion_tokens: 90, total_tokens: 270 } }));

// 64 events of answer (text deltas) between Anthropic's opening and closing events, as it streams them.
const event = (type, data) => Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
const anthropicEvents = [
  event('message_start', { message: { id: 'msg_01bench', type: 'message', role: 'assistant', model: MODEL, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 9, output_tokens: 1 } } }),
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  event('ping', {}),
];
for (let i = 0; i < 64; i++) anthropicEvents.push(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ` tok${i}` } }));
anthropicEvents.push(event('content_block_stop', { index: 0 }), event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 64 } }), event('message_stop', {}));
const sse = (data) => Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
const base = { id: 'chatcmpl-0123456789', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini' };
const openAiEvents = Array.from({ length: 64 }, (_, i) => sse({ ...base, choices: [{ index: 0, delta: { content: ` tok${i}` }, finish_reason: null }] }));
openAiEvents.push(sse({ ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 64, total_tokens: 73 } }), Buffer.from('data: [DONE]\n\n'));

const measures = {
  'request: OpenAI upstream body': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) upstreamBody(body, 'gpt-4o', false); } },
  'request: Messages body': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.stringify(messagesRequest(body, MODEL, false)); } },
  'answer: OpenAI (parsed once, for the record)': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.parse(openAiAnswer.toString()); } },
  'answer: Message → chat.completion + stringify': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.stringify(chatCompletion(messagesAnswer, call)); } },
  'stream: OpenAI SSE relay': { per: 'event', events: openAiEvents.length, run: (n) => { for (let i = 0; i < n; i++) { const relay = new SseRelay(true); for (const e of openAiEvents) relay.push(e); relay.end(); } } },
  'stream: Messages SSE → chunks → SSE': {
    per: 'event',
    events: anthropicEvents.length,
    run: (n) => {
      for (let i = 0; i < n; i++) {
        const translator = new MessagesStreamTranslator({ ...call, stream: true });
        const relay = new ChunkRelay(false);
        for (const e of anthropicEvents) relay.write(translator.push(e));
        relay.write(translator.end());
      }
    },
  },
};

async function cpu(measure, n) {
  const start = process.cpuUsage();
  await measure.run(n);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n / (measure.per === 'event' ? measure.events : 1);
}

(async () => {
  const names = Object.keys(measures);
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + rep) % names.length];
      const streams = measures[name].per === 'event' ? Math.ceil(CALLS / 10) : CALLS;
      await cpu(measures[name], Math.ceil(streams / 10));
      runs[name].push(await cpu(measures[name], streams));
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`node ${process.version}; ${CALLS} calls per run (streams: ${Math.ceil(CALLS / 10)} of ${anthropicEvents.length} Anthropic / ${openAiEvents.length} OpenAI events), ${REPS} repetitions; CPU µs, median (min–max)`);
  for (const name of names) {
    const r = runs[name];
    console.log(`${name.padEnd(50)} ${median(r).toFixed(2).padStart(7)} µs/${measures[name].per}  (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`);
  }
})();
