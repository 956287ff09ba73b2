import { readChatStreamData } from '../answer-rewriter';
import { anthropicUsage, messageIdOf, stopReasonOf } from './messages-answer';

type Json = Record<string, unknown>;

type OpenBlock = { kind: 'text' | 'thinking' } | { kind: 'tool'; toolIndex: number };

/** One server-sent event as Anthropic writes it: the type as the event name and inside the data. */
export function anthropicEvent(data: Json): string {
  return `event: ${data.type as string}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * OpenAI chunks (one `data` text at a time) as Anthropic's event sequence: `message_start` and a `ping` before the
 * first content, then one content block at a time — thinking (`thinking_delta`), text (`text_delta`), each tool call
 * (`tool_use`, its arguments as `input_json_delta`) — opened by `content_block_start` and closed by
 * `content_block_stop` when another kind starts; at the end `message_delta` with the stop reason and the usage (the
 * usage chunk the gateway always asks for), then `message_stop`.
 */
export class MessagesEventWriter {
  private started = false;
  private finished = false;
  private block: OpenBlock | null = null;
  private blockCount = 0;
  private stopReason = 'end_turn';
  private usage: unknown = null;

  /** The events for one chunk's data (OpenAI's `[DONE]` ends the message). */
  chunk(data: string): string {
    if (this.finished) return '';
    const read = readChatStreamData(data);
    if (read === null) return '';
    if (read.kind === 'done') return this.finish();
    if (read.kind === 'error') return this.error(read.error);
    const { chunk, choice, delta } = read;
    let out = this.start(chunk);
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
    if (choice === undefined) return out;
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') {
      out += this.open({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
      out += this.delta({ type: 'thinking_delta', thinking: delta.reasoning_content });
    }
    if (typeof delta.content === 'string' && delta.content !== '') {
      out += this.open({ kind: 'text' }, { type: 'text', text: '' });
      out += this.delta({ type: 'text_delta', text: delta.content });
    }
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls as Json[]) out += this.toolCall(call);
    if (typeof choice.finish_reason === 'string') this.stopReason = stopReasonOf(choice.finish_reason);
    return out;
  }

  /** The stream ended without `[DONE]`: the message is closed all the same. */
  end(): string {
    return this.finished ? '' : this.finish();
  }

  /** The gateway's `{"error": {...}}` event (a stream that broke) as Anthropic's error event. */
  error(error: unknown): string {
    this.finished = true;
    const fields = error !== null && typeof error === 'object' ? (error as Json) : {};
    return anthropicEvent({ type: 'error', error: { type: anthropicStreamErrorType(fields.type), message: typeof fields.message === 'string' ? fields.message : 'The upstream stream failed' } });
  }

  private start(chunk: Json): string {
    if (this.started) return '';
    this.started = true;
    const message = { id: messageIdOf(chunk.id), type: 'message', role: 'assistant', model: chunk.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } };
    return anthropicEvent({ type: 'message_start', message }) + anthropicEvent({ type: 'ping' });
  }

  private toolCall(call: Json): string {
    const toolIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = (call.function as Json | undefined) ?? {};
    let out = '';
    const current = this.block;
    if (current === null || current.kind !== 'tool' || current.toolIndex !== toolIndex || typeof call.id === 'string') {
      out += this.open({ kind: 'tool', toolIndex }, { type: 'tool_use', id: call.id ?? `toolu_${toolIndex}`, name: fn.name ?? '', input: {} }, true);
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') out += this.delta({ type: 'input_json_delta', partial_json: fn.arguments });
    return out;
  }

  /** Opens a block of this kind unless one is open already (`always` for each new tool call). */
  private open(block: OpenBlock, contentBlock: Json, always = false): string {
    if (!always && this.block !== null && this.block.kind === block.kind) return '';
    const out = this.close();
    this.block = block;
    return out + anthropicEvent({ type: 'content_block_start', index: this.blockCount, content_block: contentBlock });
  }

  private delta(delta: Json): string {
    return anthropicEvent({ type: 'content_block_delta', index: this.blockCount, delta });
  }

  private close(): string {
    if (this.block === null) return '';
    this.block = null;
    return anthropicEvent({ type: 'content_block_stop', index: this.blockCount++ });
  }

  private finish(): string {
    let out = this.start({});
    out += this.close();
    this.finished = true;
    out += anthropicEvent({ type: 'message_delta', delta: { stop_reason: this.stopReason, stop_sequence: null }, usage: anthropicUsage(this.usage) });
    return out + anthropicEvent({ type: 'message_stop' });
  }
}

/** The gateway's OpenAI error type inside a stream as Anthropic's (a stream only breaks on the server's or upstream's side). */
function anthropicStreamErrorType(type: unknown): string {
  switch (type) {
    case 'rate_limit_error':
      return 'rate_limit_error';
    case 'invalid_request_error':
      return 'invalid_request_error';
    default:
      return 'api_error';
  }
}
