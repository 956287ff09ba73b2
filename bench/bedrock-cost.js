'use strict';
// CPU time the Bedrock provider adds per call, in process, on the built code (dist/): building and signing a
// Converse request, translating its answer, and translating a ConverseStream answer frame by frame — each beside
// what the OpenAI-compatible path does for the same call (the upstream body; the answer and events relayed as bytes,
// the SSE relay's cost per event). Process CPU time, interleaved repetitions, median.
//   npm run build && node bench/bedrock-cost.js
// Env: CALLS (per run, default 5000), REPS (default 7).
const { join } = require('node:path');
const { answerText, benchBody: body, dist, openAiBaseline, reportCpu } = require('./lib/cpu-cost');

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
const call = { endpoint: 'chat', stream: false, body, upstreamModel: MODEL, callId: 'bench' };
const converseAnswer = Buffer.from(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: answerText }] } }, stopReason: 'end_turn', usage: { inputTokens: 180, outputTokens: 90, totalTokens: 270 }, metrics: { latencyMs: 400 } }));

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const frame = (type, payload) =>
  Buffer.from(codec.encode({ headers: { ':event-type': { type: 'string', value: type }, ':content-type': { type: 'string', value: 'application/json' }, ':message-type': { type: 'string', value: 'event' } }, body: fromUtf8(JSON.stringify(payload)) }));
const frames = [frame('messageStart', { role: 'assistant' })];
for (let i = 0; i < 64; i++) frames.push(frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ` tok${i}` }, p: 'abcdefghij' }));
frames.push(frame('contentBlockStop', { contentBlockIndex: 0 }), frame('messageStop', { stopReason: 'end_turn' }), frame('metadata', { usage: { inputTokens: 9, outputTokens: 64, totalTokens: 73 }, metrics: { latencyMs: 5 } }));
const openAi = openAiBaseline();

const measures = {
  'request: OpenAI upstream body': openAi.request,
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
  'answer: OpenAI (parsed once, for the record)': openAi.answer,
  'answer: Converse → chat.completion + stringify': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.stringify(chatCompletion(converseAnswer, call)); } },
  'stream: OpenAI SSE relay': openAi.stream,
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

void reportCpu(measures, { calls: CALLS, reps: REPS, title: `${CALLS} calls per run (streams: ${Math.ceil(CALLS / 10)} of ${frames.length} events)` });
