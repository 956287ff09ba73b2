import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { checkMessagesRequest } from './anthropic-request-checks';
import { FakeHttpServer, sendJson, type FailureSpec, type RecordedRequest } from './fake-http-server';

/**
 * Anthropic's Messages API on loopback, in its real wire format: `POST {prefix}/v1/messages` with the key in
 * `x-api-key` (or `Authorization: Bearer`, as Anthropic's own SDK sends it) and an `anthropic-version` header; a
 * missing or unknown key is Anthropic's 401, a missing version its 400. Bodies are checked as Anthropic checks them
 * (anthropic-request-checks.ts): a body it would refuse is its 400 `invalid_request_error`. Answers are a Message
 * object, or with `"stream": true` the real event sequence (message_start, content_block_start / ping /
 * content_block_delta / content_block_stop per block, message_delta, message_stop). What the model answers, and
 * errors or broken streams, are scripted with `next()`; by default a short text with fixed usage.
 */

export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

/** What the next call answers. */
export type AnthropicBehaviour =
  /** Text (streamed in `pieces`, default: word by word), after a thinking block when `thinking` is set. */
  | { readonly type: 'text'; readonly text?: string; readonly pieces?: readonly string[]; readonly thinking?: string; readonly stopReason?: string; readonly usage?: AnthropicUsage }
  /** Tool calls (`tool_use` blocks), after some text when `text` is set; stop reason `tool_use`. */
  | { readonly type: 'tool-use'; readonly text?: string; readonly calls: ReadonlyArray<{ name: string; input: Record<string, unknown> }>; readonly usage?: AnthropicUsage }
  /** Anthropic's error answer: `{"type": "error", "error": {"type", "message"}}` (429 rate_limit_error, 529 overloaded_error, ...). */
  | { readonly type: 'error'; readonly status: number; readonly errorType: string; readonly message: string; readonly retryAfter?: string }
  /**
   * A broken answer. Streamed: the message starts and says "Partial", then `invalid-json` (data that is not JSON), an
   * `unknown-event`, an `error-event` (overloaded_error inside the 200 stream), or `early-end` (the connection closes
   * before message_stop). Not streamed, every fault is a body cut off mid-JSON.
   */
  | { readonly type: 'fault'; readonly fault: 'invalid-json' | 'unknown-event' | 'error-event' | 'early-end' };

export const DEFAULT_TEXT = 'Hello from the fake Anthropic!';
export const DEFAULT_USAGE: Required<Pick<AnthropicUsage, 'input_tokens' | 'output_tokens'>> = { input_tokens: 12, output_tokens: 6 };
/** Versions the fake accepts: Anthropic's stable one, and the one @anthropic-ai/sdk 1.x sends. */
export const KNOWN_VERSIONS = new Set(['2023-01-01', '2023-06-01', '2026-10-21']);

const MESSAGES_PATH = /^(.*)\/v1\/messages(\/count_tokens)?$/;
/** What the fake's counter adds to the words of the text it counts, so a count from it is told from an estimate. */
export const COUNT_OVERHEAD = 7;

/** One Messages call as the fake understood it. */
export interface MessagesCall {
  /** The path before `/v1/messages` (a proxy's prefix), or ''. */
  readonly prefix: string;
  readonly auth: 'x-api-key' | 'bearer';
  readonly json: Record<string, unknown>;
  readonly request: RecordedRequest;
}

/** One server-sent event as Anthropic writes it: the `event:` name, then its data, whose `type` repeats the name. */
export function sseEvent(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export class FakeAnthropic {
  readonly calls: MessagesCall[] = [];
  /** `POST /v1/messages/count_tokens` calls, apart from the Messages calls. */
  readonly countCalls: MessagesCall[] = [];
  private readonly apiKeys: Set<string>;
  private readonly script: AnthropicBehaviour[] = [];

  private constructor(
    private readonly http: FakeHttpServer,
    apiKeys: readonly string[],
  ) {
    this.apiKeys = new Set(apiKeys);
  }

  static async start(options: { apiKeys: readonly string[] }): Promise<FakeAnthropic> {
    let fake: FakeAnthropic | null = null;
    const http = await FakeHttpServer.start((req, res) => (fake as FakeAnthropic).handle(req, res));
    fake = new FakeAnthropic(http, options.apiKeys);
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  /** Queues what the next calls answer, in order. */
  next(...behaviours: AnthropicBehaviour[]): void {
    this.script.push(...behaviours);
  }

  /** Injects an HTTP-level failure (see FakeHttpServer). */
  setFailure(spec: FailureSpec | null): void {
    this.http.setFailure(spec);
  }

  reset(): void {
    this.script.length = 0;
    this.calls.length = 0;
    this.countCalls.length = 0;
    this.http.clearRequests();
    this.http.setFailure(null);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const match = MESSAGES_PATH.exec(req.path);
    if (req.method !== 'POST' || match === null) return anthropicError(res, 404, 'not_found_error', 'Not found');
    const auth = this.authorize(req, res);
    if (auth === null) return;
    const version = req.headers['anthropic-version'];
    if (typeof version !== 'string') return anthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (!KNOWN_VERSIONS.has(version)) return anthropicError(res, 400, 'invalid_request_error', `anthropic-version: "${version}" is not a valid version`);
    if (req.json === undefined) return anthropicError(res, 400, 'invalid_request_error', 'There was an error parsing the body of your request, please check that it is valid JSON.');
    const counting = match[2] !== undefined;
    // A count takes a Messages body without `max_tokens` (and without `stream`).
    const problem = checkMessagesRequest(counting ? { max_tokens: 1, ...(req.json as object) } : req.json);
    if (problem !== null) return anthropicError(res, 400, 'invalid_request_error', problem);
    const json = req.json as Record<string, unknown>;
    if (counting) {
      this.countCalls.push({ prefix: match[1], auth, json, request: req });
      return sendJson(res, 200, { input_tokens: COUNT_OVERHEAD + wordsOf([json.system, json.messages]) });
    }
    this.calls.push({ prefix: match[1], auth, json, request: req });
    this.answer(json, res);
  }

  private authorize(req: RecordedRequest, res: ServerResponse): MessagesCall['auth'] | null {
    const apiKey = req.headers['x-api-key'];
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const key = typeof apiKey === 'string' ? apiKey : bearer;
    if (key === undefined) {
      anthropicError(res, 401, 'authentication_error', 'x-api-key header is required');
      return null;
    }
    if (!this.apiKeys.has(key)) {
      anthropicError(res, 401, 'authentication_error', 'invalid x-api-key');
      return null;
    }
    return typeof apiKey === 'string' ? 'x-api-key' : 'bearer';
  }

  private answer(body: Record<string, unknown>, res: ServerResponse): void {
    const behaviour = this.script.shift() ?? { type: 'text' };
    const stream = body.stream === true;
    if (behaviour.type === 'error') return anthropicError(res, behaviour.status, behaviour.errorType, behaviour.message, behaviour.retryAfter);
    const id = `msg_${randomBytes(12).toString('hex')}`;
    const model = body.model as string;
    if (behaviour.type === 'fault') {
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"id": "${id}", "type": "message", "role": "assistant", "content": [{"type": "text", "te`);
        return;
      }
      return this.brokenStream(id, model, behaviour.fault, res);
    }
    const message = messageOf(id, model, behaviour);
    if (!stream) return sendJson(res, 200, message, { 'request-id': `req_${id}` });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_${id}` });
    for (const event of streamEvents(message, behaviour)) res.write(event);
    res.end();
  }

  private brokenStream(id: string, model: string, fault: Extract<AnthropicBehaviour, { type: 'fault' }>['fault'], res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(sseEvent('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: DEFAULT_USAGE.input_tokens, output_tokens: 1 } } }));
    res.write(sseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    res.write(sseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Partial' } }));
    const afterFault = sseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' never shown' } });
    switch (fault) {
      case 'invalid-json':
        res.end(`event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_de\n\n${afterFault}`);
        return;
      case 'unknown-event':
        res.end(`${sseEvent('content_block_surprise', { index: 0 })}${afterFault}`);
        return;
      case 'error-event':
        res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`);
        return;
      case 'early-end':
        res.end();
        return;
    }
  }
}

/** Anthropic's error envelope. */
/** The words of every string in `value`: the fake's stand-in for Anthropic's tokenizer. */
function wordsOf(value: unknown): number {
  if (typeof value === 'string') return value.split(/\s+/).filter((word) => word !== '').length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + wordsOf(item), 0);
  if (value !== null && typeof value === 'object') return wordsOf(Object.values(value));
  return 0;
}

export function anthropicError(res: ServerResponse, status: number, type: string, message: string, retryAfter?: string): void {
  const requestId = `req_${randomBytes(12).toString('hex')}`;
  const headers: Record<string, string> = { 'request-id': requestId, ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) };
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: requestId }, headers);
}

type Block = Record<string, unknown>;

function messageOf(id: string, model: string, behaviour: Extract<AnthropicBehaviour, { type: 'text' | 'tool-use' }>): Record<string, unknown> {
  const content: Block[] = [];
  let stopReason: string;
  if (behaviour.type === 'text') {
    if (behaviour.thinking !== undefined) content.push({ type: 'thinking', thinking: behaviour.thinking, signature: `sig-${randomBytes(8).toString('hex')}` });
    content.push({ type: 'text', text: behaviour.text ?? behaviour.pieces?.join('') ?? DEFAULT_TEXT });
    stopReason = behaviour.stopReason ?? 'end_turn';
  } else {
    if (behaviour.text !== undefined) content.push({ type: 'text', text: behaviour.text });
    for (const call of behaviour.calls) content.push({ type: 'tool_use', id: `toolu_${randomBytes(12).toString('hex')}`, name: call.name, input: call.input });
    stopReason = 'tool_use';
  }
  return { id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage: { ...DEFAULT_USAGE, ...behaviour.usage } };
}

/** The events of a streamed message, as Anthropic sends them: a ping after the first block opens, JSON input in fragments. */
function streamEvents(message: Record<string, unknown>, behaviour: Extract<AnthropicBehaviour, { type: 'text' | 'tool-use' }>): string[] {
  const usage = message.usage as AnthropicUsage;
  const { output_tokens: outputTokens, ...inputUsage } = usage;
  const events = [sseEvent('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...inputUsage, output_tokens: 1 } } })];
  (message.content as Block[]).forEach((block, index) => {
    const delta = (value: Record<string, unknown>): string => sseEvent('content_block_delta', { index, delta: value });
    if (block.type === 'text') {
      events.push(sseEvent('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      if (index === 0) events.push(sseEvent('ping', {}));
      const text = block.text as string;
      const pieces = behaviour.type === 'text' && behaviour.pieces !== undefined ? behaviour.pieces : text.split(/(?<= )/);
      for (const piece of pieces) events.push(delta({ type: 'text_delta', text: piece }));
    } else if (block.type === 'thinking') {
      events.push(sseEvent('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
      events.push(delta({ type: 'thinking_delta', thinking: block.thinking }), delta({ type: 'signature_delta', signature: block.signature }));
    } else {
      events.push(sseEvent('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }));
      const json = JSON.stringify(block.input);
      const cut = Math.ceil(json.length / 2);
      events.push(delta({ type: 'input_json_delta', partial_json: '' }), delta({ type: 'input_json_delta', partial_json: json.slice(0, cut) }), delta({ type: 'input_json_delta', partial_json: json.slice(cut) }));
    }
    events.push(sseEvent('content_block_stop', { index }));
  });
  events.push(sseEvent('message_delta', { delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: outputTokens } }));
  events.push(sseEvent('message_stop', {}));
  return events;
}
