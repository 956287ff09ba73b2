'use strict';
// CPU time the Anthropic provider adds per call, in process, on the built code (dist/): building the Messages
// request, translating its answer, and translating a Messages stream event by event — each beside what the
// OpenAI-compatible path does for the same call (the upstream body; the answer parsed once for the record; the SSE
// relay's cost per event). Process CPU time, interleaved repetitions, median.
//   npm run build && node bench/anthropic-cost.js
// Env: CALLS (per run, default 5000), REPS (default 7).
const { join } = require('node:path');
const { answerText, benchBody: body, dist, openAiBaseline, reportCpu } = require('./lib/cpu-cost');

const { ChunkRelay } = require(join(dist, 'chunk-relay.js'));
const { messagesRequest } = require(join(dist, 'providers', 'anthropic', 'messages-request.js'));
const { chatCompletion } = require(join(dist, 'providers', 'anthropic', 'messages-answer.js'));
const { MessagesStreamTranslator } = require(join(dist, 'providers', 'anthropic', 'messages-stream.js'));

const CALLS = Number(process.env.CALLS || 5000);
const REPS = Number(process.env.REPS || 7);
const MODEL = 'claude-sonnet-4-5-20250929';
const call = { endpoint: 'chat', stream: false, body, upstreamModel: MODEL, callId: 'bench' };
const messagesAnswer = Buffer.from(
  JSON.stringify({ id: 'msg_01bench', type: 'message', role: 'assistant', model: MODEL, content: [{ type: 'text', text: answerText }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 180, output_tokens: 90 } }),
);

// 64 events of answer (text deltas) between Anthropic's opening and closing events, as it streams them.
const event = (type, data) => Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
const events = [
  event('message_start', { message: { id: 'msg_01bench', type: 'message', role: 'assistant', model: MODEL, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 9, output_tokens: 1 } } }),
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  event('ping', {}),
];
for (let i = 0; i < 64; i++) events.push(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ` tok${i}` } }));
events.push(event('content_block_stop', { index: 0 }), event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 64 } }), event('message_stop', {}));

const openAi = openAiBaseline();
const measures = {
  'request: OpenAI upstream body': openAi.request,
  'request: Messages body': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.stringify(messagesRequest(body, MODEL, false)); } },
  'answer: OpenAI (parsed once, for the record)': openAi.answer,
  'answer: Message → chat.completion + stringify': { per: 'call', run: (n) => { for (let i = 0; i < n; i++) JSON.stringify(chatCompletion(messagesAnswer, call)); } },
  'stream: OpenAI SSE relay': openAi.stream,
  'stream: Messages SSE → chunks → SSE': {
    per: 'event',
    events: events.length,
    run: (n) => {
      for (let i = 0; i < n; i++) {
        const translator = new MessagesStreamTranslator({ ...call, stream: true });
        const relay = new ChunkRelay(false);
        for (const e of events) relay.write(translator.push(e));
        relay.write(translator.end());
      }
    },
  },
};

void reportCpu(measures, { calls: CALLS, reps: REPS, title: `${CALLS} calls per run (streams: ${Math.ceil(CALLS / 10)} of ${events.length} Anthropic / ${openAi.stream.events} OpenAI events)` });
