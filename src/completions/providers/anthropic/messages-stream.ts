import type { OpenAiChunk, ProviderCall, StreamTranslator } from '../provider';
import { UpstreamErrorEvent, UpstreamProtocolError } from '../provider';
import { finishReasonOfStop, parseJsonObject } from '../provider-support';
import { ServerSentEvents } from '../server-sent-events';
import { answeringModel, messageId, openAiUsage } from './messages-answer';

type Json = Record<string, unknown>;

/**
 * A streamed Messages answer (server-sent events) as OpenAI chunks: `message_start` opens the assistant turn (its id,
 * model and input tokens), `content_block_start` announces a tool call (id and name), `content_block_delta` carries
 * text, a fragment of a tool call's JSON input or thinking, `message_delta` the stop reason and the output tokens,
 * and `message_stop` ends the stream with OpenAI's usage chunk. Tool calls are numbered 0, 1, … in the order they
 * start, whatever Anthropic's block indexes. `ping` is passed over; `error` is the provider's error event; an event
 * of another type, data that is not a JSON object, or an end before `message_stop` is a protocol error.
 */
export class MessagesStreamTranslator implements StreamTranslator {
  private readonly events = new ServerSentEvents();
  private readonly created = Math.floor(Date.now() / 1000);
  /** Anthropic's content-block index → the OpenAI tool-call index. */
  private readonly toolIndexes = new Map<number, number>();
  private identity: { id: string; model: string } | null = null;
  /** The running counts: `message_start`'s, overwritten by what `message_delta` reports. */
  private usage: Json = {};
  private stopped = false;

  constructor(private readonly call: ProviderCall) {}

  push(bytes: Buffer): readonly OpenAiChunk[] {
    return this.translate(this.events.push(bytes));
  }

  end(): readonly OpenAiChunk[] {
    const chunks = this.translate(this.events.end());
    if (!this.stopped) throw new UpstreamProtocolError('the stream ended before message_stop');
    return chunks;
  }

  private translate(events: readonly string[]): OpenAiChunk[] {
    const chunks: OpenAiChunk[] = [];
    try {
      for (const data of events) this.translateEvent(parseJsonObject(data, 'a stream event is not a JSON object'), chunks);
    } catch (error) {
      if (error instanceof UpstreamProtocolError || error instanceof UpstreamErrorEvent) error.chunksBefore = chunks;
      throw error;
    }
    return chunks;
  }

  private translateEvent(event: Json, chunks: OpenAiChunk[]): void {
    const type = event.type;
    if (type === 'ping' || this.stopped) return;
    if (type === 'error') throw new UpstreamErrorEvent(errorText(event.error));
    if (type === 'message_start') {
      const message = event.message;
      if (message === null || typeof message !== 'object') throw new UpstreamProtocolError('a message_start without its message');
      this.identity = { id: messageId(message as Json, this.call), model: answeringModel(message as Json, this.call) };
      this.mergeUsage((message as Json).usage);
      chunks.push(this.chunk({ role: 'assistant', content: '' }));
      return;
    }
    if (this.identity === null) throw new UpstreamProtocolError(`the event ${quoted(type)} came before message_start`);
    switch (type) {
      case 'content_block_start':
        this.blockStart(event, chunks);
        return;
      case 'content_block_delta':
        this.blockDelta(event, chunks);
        return;
      case 'content_block_stop':
        return;
      case 'message_delta': {
        this.mergeUsage(event.usage);
        const stopReason = (event.delta as Json | undefined)?.stop_reason;
        if (stopReason !== undefined && stopReason !== null) chunks.push(this.chunk({}, finishReasonOfStop(stopReason)));
        return;
      }
      case 'message_stop':
        this.stopped = true;
        chunks.push({ id: this.identity.id, object: 'chat.completion.chunk', created: this.created, model: this.identity.model, choices: [], usage: openAiUsage(this.usage) });
        return;
      default:
        throw new UpstreamProtocolError(`an unknown event ${quoted(type)}`);
    }
  }

  private blockStart(event: Json, chunks: OpenAiChunk[]): void {
    const block = event.content_block as Json | undefined;
    if (block === undefined || block === null || typeof block !== 'object') throw new UpstreamProtocolError('a content_block_start without its content_block');
    if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') throw new UpstreamProtocolError('a tool_use block without id or name');
      const index = this.toolIndexes.size;
      this.toolIndexes.set(blockIndex(event), index);
      chunks.push(this.chunk({ tool_calls: [{ index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] }));
    } else if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
      chunks.push(this.chunk({ content: block.text }));
    }
  }

  private blockDelta(event: Json, chunks: OpenAiChunk[]): void {
    const delta = event.delta as Json | undefined;
    if (delta === undefined || delta === null || typeof delta !== 'object') throw new UpstreamProtocolError('a content_block_delta without its delta');
    switch (delta.type) {
      case 'text_delta':
        if (typeof delta.text === 'string') chunks.push(this.chunk({ content: delta.text }));
        return;
      case 'input_json_delta': {
        const index = this.toolIndexes.get(blockIndex(event));
        if (index === undefined) throw new UpstreamProtocolError('an input_json_delta for a block that is not a tool_use');
        // Anthropic opens each tool's input with an empty fragment: nothing to send.
        if (typeof delta.partial_json === 'string' && delta.partial_json !== '') {
          chunks.push(this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] }));
        }
        return;
      }
      case 'thinking_delta':
        if (typeof delta.thinking === 'string') chunks.push(this.chunk({ reasoning_content: delta.thinking }));
        return;
      default:
      // A thinking block's signature and citations have no OpenAI counterpart.
    }
  }

  /** Counts `message_delta` reports are the whole message's so far: each one present replaces the last. */
  private mergeUsage(usage: unknown): void {
    if (usage === null || typeof usage !== 'object') return;
    for (const [name, value] of Object.entries(usage as Json)) if (typeof value === 'number') this.usage[name] = value;
  }

  private chunk(delta: Json, finish: string | null = null): OpenAiChunk {
    const identity = this.identity as NonNullable<MessagesStreamTranslator['identity']>;
    return { id: identity.id, object: 'chat.completion.chunk', created: this.created, model: identity.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
  }
}

function blockIndex(event: Json): number {
  const index = event.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new UpstreamProtocolError('a content block event without an index');
  return index;
}

/** An error event's `{type, message}` as one line; what the event lacks is said so. */
export function errorText(error: unknown): string {
  const fields = error !== null && typeof error === 'object' ? (error as Json) : {};
  const type = typeof fields.type === 'string' ? fields.type : null;
  const message = typeof fields.message === 'string' ? fields.message : null;
  if (type === null) return message ?? 'an error without a message';
  return message === null ? type : `${type}: ${message}`;
}

/** An event type for an error text: short names only (the gateway never echoes arbitrary bytes). */
function quoted(type: unknown): string {
  return typeof type === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(type) ? `"${type}"` : '(unnamed)';
}
