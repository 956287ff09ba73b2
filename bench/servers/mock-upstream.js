'use strict';
// A zero-latency OpenAI-compatible upstream for the benchmark (loopback only).
// - POST /v1/chat/completions, non-streaming: one pre-built JSON buffer, no parsing of the request.
// - "stream": true: pre-built SSE chunks; the first is written at once, each next one on its own
//   setImmediate turn (so a client sees chunks arrive separately, as from a real model), then the usage
//   chunk when `stream_options.include_usage` was asked for, then `data: [DONE]`.
//   The request field `bench_chunks` (1..1024, default 4) picks the number of content chunks.
// - POST /v1/messages: the same, in Anthropic's Messages API (scenario 12): a pre-built `message` JSON, or the SSE
//   event sequence (message_start, content_block_start, one text_delta per content piece, content_block_stop,
//   message_delta, message_stop), one event per turn; `max_tokens` picks the number of pieces (a gateway passes it on,
//   where it would drop an unknown field).
// GET /__stats → {"requests": n}: how many chat requests reached the upstream (cache hits must not).
// Prints `READY <port>` on stdout once listening.
const http = require('node:http');
const { CHAT_COMPLETION, CREATED, MODEL } = require('./chat-completion');

const JSON_BODY = Buffer.from(JSON.stringify(CHAT_COMPLETION));
const JSON_HEADERS = { 'content-type': 'application/json', 'content-length': String(JSON_BODY.length) };
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

const streams = new Map();

function sse(obj) {
  return Buffer.from(`data: ${JSON.stringify(obj)}\n\n`);
}

/** Pre-built chunks for a stream of `count` content pieces: { chunks: Buffer[], usage: Buffer, done: Buffer }. */
function streamFor(count) {
  let built = streams.get(count);
  if (built) return built;
  const base = { id: 'chatcmpl-bench0000000000000000000002', object: 'chat.completion.chunk', created: CREATED, model: MODEL, system_fingerprint: 'fp_bench' };
  const chunks = [sse({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] })];
  for (let i = 0; i < count; i++) {
    chunks.push(sse({ ...base, choices: [{ index: 0, delta: { content: ` tok${i}` }, logprobs: null, finish_reason: null }] }));
  }
  chunks.push(sse({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }));
  built = {
    chunks,
    usage: sse({ ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: count, total_tokens: 9 + count } }),
    done: Buffer.from('data: [DONE]\n\n'),
  };
  streams.set(count, built);
  return built;
}

function writeStream(res, stream, withUsage) {
  res.writeHead(200, SSE_HEADERS);
  const parts = withUsage ? [...stream.chunks, stream.usage, stream.done] : stream.done ? [...stream.chunks, stream.done] : stream.chunks;
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    res.write(parts[i++]);
    if (i < parts.length) setImmediate(next);
    else res.end();
  };
  next();
}

const MESSAGE_BODY = Buffer.from(
  JSON.stringify({
    id: 'msg_bench00000000000000000001',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: CHAT_COMPLETION.choices[0].message.content }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 9, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  }),
);
const MESSAGE_HEADERS = { 'content-type': 'application/json', 'content-length': String(MESSAGE_BODY.length) };
const messageStreams = new Map();

function anthropicEvent(type, data) {
  return Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

/** Pre-built events of a Messages stream with `count` text pieces: { chunks: Buffer[] } (usage is always in it). */
function messageStreamFor(count) {
  let built = messageStreams.get(count);
  if (built) return built;
  const chunks = [
    anthropicEvent('message_start', {
      message: { id: 'msg_bench00000000000000000002', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 9, output_tokens: 1 } },
    }),
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < count; i++) chunks.push(anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ` tok${i}` } }));
  chunks.push(
    anthropicEvent('content_block_stop', { index: 0 }),
    anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: count } }),
    anthropicEvent('message_stop', {}),
  );
  built = { chunks };
  messageStreams.set(count, built);
  return built;
}

let served = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/__stats') {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests: served }));
    return;
  }
  const messages = req.url.endsWith('/v1/messages');
  if (req.method !== 'POST' || !(messages || req.url.endsWith('/chat/completions'))) {
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found"}}');
    return;
  }
  const parts = [];
  req.on('data', (chunk) => parts.push(chunk));
  req.on('end', () => {
    served++;
    const raw = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    // Parse only what may be a stream request: the non-streaming path stays a buffer write.
    if (raw.includes('"stream"')) {
      let body;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"invalid json"}}');
        return;
      }
      if (body.stream === true && messages) {
        writeStream(res, messageStreamFor(Math.min(1024, Math.max(1, Number(body.max_tokens) || 4))), false);
        return;
      }
      if (body.stream === true) {
        const count = Math.min(1024, Math.max(1, Number(body.bench_chunks) || 4));
        writeStream(res, streamFor(count), body.stream_options?.include_usage === true);
        return;
      }
    }
    res.writeHead(200, messages ? MESSAGE_HEADERS : JSON_HEADERS);
    res.end(messages ? MESSAGE_BODY : JSON_BODY);
  });
});
server.keepAliveTimeout = 600_000;
server.headersTimeout = 605_000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
