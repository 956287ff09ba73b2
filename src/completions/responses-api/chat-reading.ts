import { UpstreamErrorEvent, UpstreamProtocolError, type OpenAiAnswer, type OpenAiChunk, type StreamTranslator, type Translation } from '../providers/provider';
import { ServerSentEvents } from '../providers/server-sent-events';

type Json = Record<string, unknown>;

/**
 * How the gateway reads an OpenAI or Azure deployment's Responses answers, which go to the caller unchanged: as
 * chat, so the call's record, its cost and the cache see the shapes they know. `onResponseId` learns the
 * upstream's id (for `GET`/`DELETE /v1/responses/{id}` and `previous_response_id`).
 */
export function responsesReading(onResponseId: (id: string) => void): Translation & { readonly lastSequence: () => number } {
  let lastSequence = -1;
  return {
    answer: (bytes) => {
      const response = parseResponse(bytes);
      if (typeof response.id === 'string' && response.id !== '') onResponseId(response.id);
      return chatCompletionOf(response);
    },
    stream: () =>
      new ResponsesStreamReader(
        (id) => onResponseId(id),
        (sequence) => {
          lastSequence = sequence;
        },
      ),
    streamContentTypes: ['text/event-stream'],
    lastSequence: () => lastSequence,
  };
}

function parseResponse(bytes: Buffer): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UpstreamProtocolError('the Responses answer is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || (parsed as Json).object !== 'response') throw new UpstreamProtocolError('the answer is not a Responses API response');
  return parsed as Json;
}

/** A Responses `response` object as a `chat.completion`: its text, its function calls, its usage. */
export function chatCompletionOf(response: Json): OpenAiAnswer {
  let text = '';
  const toolCalls: Json[] = [];
  for (const item of Array.isArray(response.output) ? (response.output as Json[]) : []) {
    if (item === null || typeof item !== 'object') continue;
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content as Json[]) if (part?.type === 'output_text' && typeof part.text === 'string') text += part.text;
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
    }
  }
  const message: Json = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: response.id,
    object: 'chat.completion',
    created: response.created_at,
    model: response.model,
    choices: [{ index: 0, message, finish_reason: finishReasonOf(response, toolCalls.length > 0) }],
    usage: chatUsage(response.usage),
  };
}

function finishReasonOf(response: Json, calledTools: boolean): string {
  const reason = (response.incomplete_details as Json | null | undefined)?.reason;
  if (response.status === 'incomplete') return reason === 'content_filter' ? 'content_filter' : 'length';
  return calledTools ? 'tool_calls' : 'stop';
}

/** Responses usage as chat's; absent when the response carries none. */
export function chatUsage(usage: unknown): Json | null {
  if (usage === null || typeof usage !== 'object') return null;
  const u = usage as Json;
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: num(u.total_tokens) || input + output,
    prompt_tokens_details: { cached_tokens: num((u.input_tokens_details as Json | undefined)?.cached_tokens) },
    completion_tokens_details: { reasoning_tokens: num((u.output_tokens_details as Json | undefined)?.reasoning_tokens) },
  };
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * A Responses event stream read into chat chunks: text deltas as content, function call items as tool calls (in
 * the order they were added), and at the end a finish chunk and a usage chunk from `response.completed` or
 * `response.incomplete`. `response.failed` and `error` events are the upstream's error (they went to the caller
 * already); a stream that ends before the response did is a protocol error.
 */
class ResponsesStreamReader implements StreamTranslator {
  private readonly events = new ServerSentEvents();
  private id = '';
  private model: unknown = null;
  private created = 0;
  private done = false;
  private readonly toolIndexByItem = new Map<string, number>();

  constructor(
    private readonly onResponseId: (id: string) => void,
    private readonly onSequence: (sequence: number) => void,
  ) {}

  push(bytes: Buffer): readonly OpenAiChunk[] {
    const chunks: OpenAiChunk[] = [];
    for (const data of this.events.push(bytes)) this.read(data, chunks);
    return chunks;
  }

  end(): readonly OpenAiChunk[] {
    const chunks: OpenAiChunk[] = [];
    for (const data of this.events.end()) this.read(data, chunks);
    if (!this.done) {
      const error = new UpstreamProtocolError('the Responses stream ended before the response was complete');
      error.chunksBefore = chunks;
      throw error;
    }
    return chunks;
  }

  private read(data: string, chunks: OpenAiChunk[]): void {
    let event: Json;
    try {
      event = JSON.parse(data) as Json;
    } catch {
      throw withChunks(new UpstreamProtocolError('a Responses stream event is not JSON'), chunks);
    }
    if (event === null || typeof event !== 'object') throw withChunks(new UpstreamProtocolError('a Responses stream event is not an object'), chunks);
    if (typeof event.sequence_number === 'number') this.onSequence(event.sequence_number);
    const response = event.response as Json | undefined;
    switch (event.type) {
      case 'response.created':
        if (response !== undefined) this.begin(response);
        chunks.push(this.chunk({ role: 'assistant', content: '' }));
        return;
      case 'response.output_text.delta':
        if (typeof event.delta === 'string' && event.delta !== '') chunks.push(this.chunk({ content: event.delta }));
        return;
      case 'response.output_item.added': {
        const item = event.item as Json | undefined;
        if (item?.type !== 'function_call') return;
        const index = this.toolIndexByItem.size;
        this.toolIndexByItem.set(typeof item.id === 'string' ? item.id : `#${index}`, index);
        chunks.push(this.chunk({ tool_calls: [{ index, id: item.call_id, type: 'function', function: { name: item.name, arguments: '' } }] }));
        return;
      }
      case 'response.function_call_arguments.delta': {
        const index = this.toolIndexByItem.get(String(event.item_id));
        if (index !== undefined && typeof event.delta === 'string') chunks.push(this.chunk({ tool_calls: [{ index, function: { arguments: event.delta } }] }));
        return;
      }
      case 'response.completed':
      case 'response.incomplete': {
        this.done = true;
        const final = response ?? {};
        if (this.id === '') this.begin(final);
        const completion = chatCompletionOf(final);
        const finish = ((completion.choices as Json[])[0]).finish_reason;
        chunks.push({ ...this.chunk({}), choices: [{ index: 0, delta: {}, finish_reason: finish }] });
        const usage = completion.usage;
        if (usage !== null) chunks.push({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage });
        return;
      }
      case 'response.failed': {
        this.done = true;
        const error = (response?.error as Json | null | undefined) ?? {};
        throw withChunks(new UpstreamErrorEvent(typeof error.message === 'string' ? error.message : 'the response failed'), chunks);
      }
      case 'error':
        this.done = true;
        throw withChunks(new UpstreamErrorEvent(typeof event.message === 'string' ? event.message : 'the upstream reported an error'), chunks);
      default:
        return;
    }
  }

  private begin(response: Json): void {
    if (typeof response.id === 'string' && response.id !== '') {
      this.id = response.id;
      this.onResponseId(response.id);
    }
    this.model = response.model ?? null;
    this.created = typeof response.created_at === 'number' ? response.created_at : Math.floor(Date.now() / 1000);
  }

  private chunk(delta: Json): OpenAiChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, finish_reason: null }] };
  }
}

function withChunks<E extends UpstreamProtocolError | UpstreamErrorEvent>(error: E, chunks: readonly OpenAiChunk[]): E {
  error.chunksBefore = [...chunks];
  return error;
}
