'use strict';
// The mock upstream's non-streaming answer, shared by the mock itself, the bare forwarder's static route
// (scenario 9: as big as a cache hit's answer) and bench/pglite-outbox.mjs (the response inside a logged record).
const CREATED = 1_700_000_000;
const MODEL = 'gpt-4o-mini-2024-07-18';

const CHAT_COMPLETION = Object.freeze({
  id: 'chatcmpl-bench0000000000000000000001',
  object: 'chat.completion',
  created: CREATED,
  model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
  system_fingerprint: 'fp_bench',
});

module.exports = { CHAT_COMPLETION, CREATED, MODEL };
