'use strict';
// CPU time the Bedrock provider adds per call, in process, on the built code (dist/): building and signing a
// Converse request, translating its answer, and translating a ConverseStream answer frame by frame — each beside
// what the OpenAI-compatible path does for the same call (the upstream body; the answer and events relayed as bytes,
// the SSE relay's cost per event). Process CPU time, interleaved repetitions, median.
//   npm run build && node bench/bedrock-cost.js
// Env: CALLS (per run, default 5000), REPS (default 7).
const { join, resolve } = require('node:path');

const dist = resolve(__dirname, '..', 'dist', 'src', 'completions');
const { upstreamBody } = require(join(dist, 'request-body.js'));
const { SseRelay } = require(join(dist, 'sse-relay.js'));
const { ChunkRelay } = require(join(dist, 'chunk-relay.js'));
const { converseRequest } = require(join(dist, 'providers', 'bedrock', 'converse-request.js'));
const { chatCompletion } = require(join(dist, 'providers', 'bedrock', 'converse-answer.js'));
const { ConverseStreamTranslator } = require(join(dist, 'providers', 'bedrock', 'converse-stream.js'));
const { parseBedrockModel } = require(join(dist, 'providers', 'bedrock', 'model-id.js'));
const { RequestSigner } = require(join(dist, 'providers', 'bedrock', 'request-signer.js'));
const { EventStreamCodec } = require('@smithy/eventstream-codec');
const { fromUtf8, toUtf8 } = require('@smithy/util-utf8');

const CALLS = Number(process.env.CALLS || 5000);
const REPS = Number(process.env.REPS || 7);
const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const model = parseBedrockModel(MODEL);
const signer = new RequestSigner({ accessKeyId: 'AKIABENCH00000000001', secretAccessKey: 'bench-secret', sessionToken: 'bench-token' }, 'us-east-1', 'bedrock-runtime.us-east-1.amazonaws.com');
const path = `/model/${model.pathSegment}/converse`;
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
const converseAnswer = Buffer.from(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: answerText }] } }, stopReason: 'end_turn', usage: { inputTokens: 180, outputTokens: 90, totalTokens: 270 }, metrics: { latencyMs: 400 } }));
const openAiAnswer = Buffer.from(JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: answerText }, finish_reason: 'stop' }], usage: { prompt_tokens: 180, completion_tokens: 90, total_tokens: 270 } }));

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const frame = (type, payload) =>
  Buffer.from(codec.encode({ headers: { ':event-type': { type: 'string', value: type }, ':content-type': { type: 'string', value: 'application/json' }, ':message-type': { type: 'string', value: 'event' } }, body: fromUtf8(JSON.stringify(payload)) }));
const frames = [frame('messageStart', { role: 'assistant' })];
for (let i = 0; i < 64; i++) frames.push(frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ` tok${i}` }, p: 'abcdefghij' }));
frames.push(frame('contentBlockStop', { contentBlockIndex: 0 }), frame('messageStop', { stopReason: 'end_turn' }), frame('metadata', { usage: { inputTokens: 9, outputTokens: 64, totalTokens: 73 }, metrics: { latencyMs: 5 } }));
const sse = (data) => Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
const base = { id: 'chatcmpl-0123456789', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini' };
const openAiEvents = Array.from({ length: 64 }, (_, i) => sse({ ...base, choices: [{ index: 0, delta: { content: ` tok${i}` }, finish_reason: null }] }));
openAiEvents.push(sse({ ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 64, total_tokens: 73 } }), Buffer.from('data: [DONE]\n\n'));

const measures = {
  'request: OpenAI upstream body': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) upstreamBody(body, 'gpt-4o', false); } },
  'request: Converse body + SigV4': {
    per: 'call',
    run: async (n) => {
      for (let i = 0; i < n; i++) {
        const text = JSON.stringify(converseRequest(body, model, {}));
        await signer.sign(path, { 'content-type': 'application/json', accept: 'application/json' }, text);
      }
    },
  },
  'request: SigV4 alone': { per: 'call', run: async (n) => { const text = JSON.stringify(converseRequest(body, model, {})); for (let i = 0; i < n; i++) await signer.sign(path, { 'content-type': 'application/json' }, text); } },
  'answer: OpenAI (parsed once, for the record)': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.parse(openAiAnswer.toString()); } },
  'answer: Converse → chat.completion + stringify': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.stringify(chatCompletion(converseAnswer, call)); } },
  'stream: OpenAI SSE relay': { per: 'event', events: openAiEvents.length, run: (n) => { for (let i = 0; i < n; i++) { const relay = new SseRelay(true); for (const e of openAiEvents) relay.push(e); relay.end(); } } },
  'stream: ConverseStream → chunks → SSE': {
    per: 'event',
    events: frames.length,
    run: (n) => {
      for (let i = 0; i < n; i++) {
        const translator = new ConverseStreamTranslator({ ...call, stream: true });
        const relay = new ChunkRelay(false);
        for (const f of frames) relay.write(translator.push(f));
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
  console.log(`node ${process.version}; ${CALLS} calls per run (streams: ${Math.ceil(CALLS / 10)} of ${frames.length} events), ${REPS} repetitions; CPU µs, median (min–max)`);
  for (const name of names) {
    const r = runs[name];
    console.log(`${name.padEnd(50)} ${median(r).toFixed(2).padStart(7)} µs/${measures[name].per}  (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`);
  }
})();
