import { StringDecoder } from 'node:string_decoder';
import { UpstreamErrorEvent, UpstreamProtocolError, type OpenAiAnswer, type OpenAiChunk, type ProviderCall, type StreamTranslator } from '../provider';

/**
 * Ollama's answers as OpenAI's: `/api/chat` and `/api/generate` replies (one JSON object, or NDJSON lines when
 * streamed) become a `chat.completion` or `chat.completion.chunk`s ending with a usage chunk; `/api/embed` becomes an
 * embeddings list. Usage is `prompt_eval_count` / `eval_count`, the finish reason `done_reason` (or `tool_calls`).
 */

/** Which Ollama route the call went to. */
export type OllamaRoute = 'chat' | 'generate';

/** A streamed line longer than this is not an Ollama message: the stream is refused rather than buffered on. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

interface OllamaReply {
  model?: unknown;
  created_at?: unknown;
  message?: { content?: unknown; thinking?: unknown; tool_calls?: unknown };
  response?: unknown;
  thinking?: unknown;
  done?: unknown;
  done_reason?: unknown;
  prompt_eval_count?: unknown;
  eval_count?: unknown;
  error?: unknown;
}

export function translateAnswer(bytes: Buffer, call: ProviderCall, route: OllamaRoute): OpenAiAnswer {
  const reply = parseObject(bytes.toString('utf8'), 'the answer is not a JSON object');
  if (call.endpoint === 'embeddings') return embeddings(reply, call);
  const delta = readDelta(reply, route, call.callId, 0);
  if (reply.done !== true) throw new UpstreamProtocolError('the answer is not a finished Ollama reply (no `done: true`)');
  const message: Record<string, unknown> = { role: 'assistant', content: delta.content };
  if (delta.reasoning !== undefined) message.reasoning_content = delta.reasoning;
  if (delta.toolCalls.length > 0) message.tool_calls = delta.toolCalls.map(({ index: _index, ...rest }) => rest);
  return {
    id: `chatcmpl-${call.callId}`,
    object: 'chat.completion',
    created: createdOf(reply),
    model: typeof reply.model === 'string' ? reply.model : call.upstreamModel,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply, delta.toolCalls.length > 0) }],
    usage: usageOf(reply),
  };
}

export function translateStream(call: ProviderCall, route: OllamaRoute): StreamTranslator {
  return new NdjsonTranslator(call, route);
}

class NdjsonTranslator implements StreamTranslator {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private started = false;
  private finished = false;
  private toolCallCount = 0;
  private sawToolCall = false;
  private created = 0;
  private model: string;

  constructor(
    private readonly call: ProviderCall,
    private readonly route: OllamaRoute,
  ) {
    this.model = call.upstreamModel;
  }

  push(bytes: Buffer): readonly OpenAiChunk[] {
    const text = this.partial + this.decoder.write(bytes);
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_LINE_CHARS) throw new UpstreamProtocolError('a line of the NDJSON stream never ended');
    const out: OpenAiChunk[] = [];
    for (const line of lines) this.line(line, out);
    return out;
  }

  end(): readonly OpenAiChunk[] {
    const out: OpenAiChunk[] = [];
    this.line(this.partial + this.decoder.end(), out);
    this.partial = '';
    if (!this.finished) throw new UpstreamProtocolError('the stream ended before Ollama said it was done');
    return out;
  }

  private line(raw: string, out: OpenAiChunk[]): void {
    const line = raw.trim();
    if (line === '') return;
    if (this.finished) throw new UpstreamProtocolError('a line followed the final `done: true` one');
    const reply = parseObject(line, 'a line of the NDJSON stream is not a JSON object');
    if (reply.error !== undefined && reply.error !== null) {
      throw new UpstreamErrorEvent(typeof reply.error === 'string' ? reply.error : JSON.stringify(reply.error));
    }
    if (!this.started) {
      this.created = createdOf(reply);
      if (typeof reply.model === 'string') this.model = reply.model;
    }
    const delta = readDelta(reply, this.route, this.call.callId, this.toolCallCount);
    this.toolCallCount += delta.toolCalls.length;
    if (delta.toolCalls.length > 0) this.sawToolCall = true;
    const fields: Record<string, unknown> = {};
    if (!this.started) fields.role = 'assistant';
    if (delta.content !== '' || !this.started) fields.content = delta.content;
    if (delta.reasoning !== undefined) fields.reasoning_content = delta.reasoning;
    if (delta.toolCalls.length > 0) fields.tool_calls = delta.toolCalls;
    this.started = true;
    if (Object.keys(fields).length > 0) out.push(this.chunk([{ index: 0, delta: fields, logprobs: null, finish_reason: null }]));
    if (reply.done === true) {
      this.finished = true;
      out.push(this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason(reply, this.sawToolCall) }]));
      out.push({ ...this.chunk([]), usage: usageOf(reply) });
    }
  }

  private chunk(choices: unknown[]): OpenAiChunk {
    return { id: `chatcmpl-${this.call.callId}`, object: 'chat.completion.chunk', created: this.created, model: this.model, choices };
  }
}

interface Delta {
  content: string;
  reasoning: string | undefined;
  toolCalls: Array<{ index: number; id: string; type: 'function'; function: { name: string; arguments: string } }>;
}

function readDelta(reply: OllamaReply, route: OllamaRoute, callId: string, firstIndex: number): Delta {
  if (route === 'generate') {
    if (typeof reply.response !== 'string') throw new UpstreamProtocolError('an /api/generate reply has no `response` text');
    return { content: reply.response, reasoning: typeof reply.thinking === 'string' && reply.thinking !== '' ? reply.thinking : undefined, toolCalls: [] };
  }
  const message = reply.message;
  if (message === null || typeof message !== 'object') throw new UpstreamProtocolError('an /api/chat reply has no `message`');
  const content = typeof message.content === 'string' ? message.content : '';
  const reasoning = typeof message.thinking === 'string' && message.thinking !== '' ? message.thinking : undefined;
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as unknown[]) : [];
  const toolCalls = calls.map((raw, i) => {
    const call = raw as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
    if (call?.function === undefined || typeof call.function.name !== 'string') throw new UpstreamProtocolError('a tool call has no function name');
    const args = call.function.arguments;
    const index = firstIndex + i;
    return {
      index,
      id: typeof call.id === 'string' && call.id !== '' ? call.id : `call_${callId.replace(/-/g, '').slice(0, 20)}_${index}`,
      type: 'function' as const,
      // Ollama gives the arguments as an object; OpenAI as JSON text.
      function: { name: call.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
    };
  });
  return { content, reasoning, toolCalls };
}

function finishReason(reply: OllamaReply, toolCalls: boolean): string {
  if (toolCalls) return 'tool_calls';
  return reply.done_reason === 'length' ? 'length' : 'stop';
}

function usageOf(reply: OllamaReply): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = count(reply.prompt_eval_count);
  const completion = count(reply.eval_count);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function embeddings(reply: OllamaReply & { embeddings?: unknown }, call: ProviderCall): OpenAiAnswer {
  const vectors = reply.embeddings;
  if (!Array.isArray(vectors) || !vectors.every((v) => Array.isArray(v) && v.every((x) => typeof x === 'number'))) {
    throw new UpstreamProtocolError('an /api/embed reply has no `embeddings` list of number lists');
  }
  const base64 = call.body.encoding_format === 'base64';
  const prompt = count(reply.prompt_eval_count);
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      // OpenAI's base64 form: little-endian float32s (what the openai SDK asks for by default).
      embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    model: typeof reply.model === 'string' ? reply.model : call.upstreamModel,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  };
}

function parseObject(text: string, problem: string): OllamaReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamProtocolError(problem);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UpstreamProtocolError(problem);
  return parsed;
}

function createdOf(reply: OllamaReply): number {
  const at = typeof reply.created_at === 'string' ? Date.parse(reply.created_at) : NaN;
  return Math.floor((Number.isFinite(at) ? at : Date.now()) / 1000);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
