import { readChatStreamData } from '../answer-rewriter';
import type { RequestBody } from '../request-body';
import { functionCallItem, itemSuffix, messageItem, outputText, reasoningItem, responseIdOf, responsesUsage, responseShell, statusOf, summaryText } from './responses-answer';

type Json = Record<string, unknown>;

type OpenItem =
  | { kind: 'reasoning'; index: number; id: string; text: string }
  | { kind: 'message'; index: number; id: string; text: string }
  | { kind: 'tool'; index: number; toolIndex: number; callId: string; name: string; args: string };

/** One server-sent event as OpenAI's Responses API writes it: the type as the event name and inside the data. */
export function responsesEvent(data: Json): string {
  return `event: ${data.type as string}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * OpenAI chat chunks (one `data` text at a time) as the Responses API's event sequence: `response.created` and
 * `response.in_progress` first; then one output item at a time — reasoning as a `reasoning` item's summary
 * (`response.reasoning_summary_text.delta`), the text as a `message` item (its
 * `output_text` part opened, filled by `response.output_text.delta`, closed by `.done`), each tool call as a
 * `function_call` item (`response.function_call_arguments.delta` / `.done`) — each opened by
 * `response.output_item.added` and closed by `response.output_item.done`; at the end `response.completed` (or
 * `response.incomplete` when the output was cut) with the whole response and its usage. A stream that broke
 * ends with `response.failed`. Every event carries its `sequence_number`.
 */
export class ResponsesEventWriter {
  private sequence = 0;
  private started = false;
  private finished = false;
  private item: OpenItem | null = null;
  private readonly output: Json[] = [];
  private finishReason: unknown = null;
  private usage: unknown = null;
  private shell: Json = {};
  private suffix = 'gatehouse';

  constructor(private readonly request: RequestBody) {}

  /** The events for one chunk's data (OpenAI's `[DONE]` ends the response). */
  chunk(data: string): string {
    if (this.finished) return '';
    const read = readChatStreamData(data);
    if (read === null) return '';
    if (read.kind === 'done') return this.finish();
    if (read.kind === 'error') return this.fail(read.error);
    const { chunk, choice, delta } = read;
    let out = this.start(chunk);
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
    if (choice === undefined) return out;
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') out += this.reasoning(delta.reasoning_content);
    if (typeof delta.content === 'string' && delta.content !== '') out += this.text(delta.content);
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls as Json[]) out += this.toolCall(call);
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
    return out;
  }

  /** The stream ended without `[DONE]`: the response is completed all the same. */
  end(): string {
    return this.finished ? '' : this.finish();
  }

  private emit(data: Json): string {
    return responsesEvent({ ...data, sequence_number: this.sequence++ });
  }

  private start(chunk: Json): string {
    if (this.started) return '';
    this.started = true;
    const id = responseIdOf(chunk.id);
    this.suffix = itemSuffix(id);
    const created = typeof chunk.created === 'number' ? chunk.created : Math.floor(Date.now() / 1000);
    this.shell = responseShell(this.request, id, created, chunk.model ?? this.request.model);
    return this.emit({ type: 'response.created', response: this.shell }) + this.emit({ type: 'response.in_progress', response: this.shell });
  }

  private reasoning(delta: string): string {
    let out = '';
    let item = this.item;
    if (item === null || item.kind !== 'reasoning') {
      out += this.close();
      item = { kind: 'reasoning', index: this.output.length, id: `rs_${this.suffix}${this.output.length === 0 ? '' : `_${this.output.length}`}`, text: '' };
      this.item = item;
      const added = reasoningItem(item.id, null);
      this.output.push(added);
      out += this.emit({ type: 'response.output_item.added', output_index: item.index, item: added });
      out += this.emit({ type: 'response.reasoning_summary_part.added', item_id: item.id, output_index: item.index, summary_index: 0, part: summaryText('') });
    }
    item.text += delta;
    return out + this.emit({ type: 'response.reasoning_summary_text.delta', item_id: item.id, output_index: item.index, summary_index: 0, delta });
  }

  private text(delta: string): string {
    let out = '';
    let item = this.item;
    if (item === null || item.kind !== 'message') {
      out += this.close();
      item = { kind: 'message', index: this.output.length, id: `msg_${this.suffix}${this.output.length === 0 ? '' : `_${this.output.length}`}`, text: '' };
      this.item = item;
      this.output.push(messageItem(item.id, '', 'in_progress'));
      out += this.emit({ type: 'response.output_item.added', output_index: item.index, item: messageItem(item.id, '', 'in_progress') });
      out += this.emit({ type: 'response.content_part.added', item_id: item.id, output_index: item.index, content_index: 0, part: outputText('') });
    }
    item.text += delta;
    return out + this.emit({ type: 'response.output_text.delta', item_id: item.id, output_index: item.index, content_index: 0, delta, logprobs: [] });
  }

  private toolCall(call: Json): string {
    const toolIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = (call.function as Json | undefined) ?? {};
    let out = '';
    let item = this.item;
    if (item === null || item.kind !== 'tool' || item.toolIndex !== toolIndex || (typeof call.id === 'string' && call.id !== item.callId)) {
      out += this.close();
      const callId = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${this.suffix}_${toolIndex}`;
      item = { kind: 'tool', index: this.output.length, toolIndex, callId, name: typeof fn.name === 'string' ? fn.name : '', args: '' };
      this.item = item;
      const added = functionCallItem(callId, item.name, '', 'in_progress');
      this.output.push(added);
      out += this.emit({ type: 'response.output_item.added', output_index: item.index, item: added });
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      item.args += fn.arguments;
      out += this.emit({ type: 'response.function_call_arguments.delta', item_id: `fc_${item.callId}`, output_index: item.index, delta: fn.arguments });
    }
    return out;
  }

  private close(): string {
    const item = this.item;
    if (item === null) return '';
    this.item = null;
    if (item.kind === 'reasoning') {
      const done = reasoningItem(item.id, item.text);
      this.output[item.index] = done;
      return (
        this.emit({ type: 'response.reasoning_summary_text.done', item_id: item.id, output_index: item.index, summary_index: 0, text: item.text }) +
        this.emit({ type: 'response.reasoning_summary_part.done', item_id: item.id, output_index: item.index, summary_index: 0, part: summaryText(item.text) }) +
        this.emit({ type: 'response.output_item.done', output_index: item.index, item: done })
      );
    }
    if (item.kind === 'message') {
      const done = messageItem(item.id, item.text, 'completed');
      this.output[item.index] = done;
      return (
        this.emit({ type: 'response.output_text.done', item_id: item.id, output_index: item.index, content_index: 0, text: item.text, logprobs: [] }) +
        this.emit({ type: 'response.content_part.done', item_id: item.id, output_index: item.index, content_index: 0, part: outputText(item.text) }) +
        this.emit({ type: 'response.output_item.done', output_index: item.index, item: done })
      );
    }
    const done = functionCallItem(item.callId, item.name, item.args, 'completed');
    this.output[item.index] = done;
    return (
      this.emit({ type: 'response.function_call_arguments.done', item_id: done.id, output_index: item.index, name: item.name, arguments: item.args }) +
      this.emit({ type: 'response.output_item.done', output_index: item.index, item: done })
    );
  }

  private finish(): string {
    let out = this.start({});
    out += this.close();
    this.finished = true;
    const status = statusOf(this.finishReason);
    const response = { ...this.shell, ...status, output: this.output, usage: responsesUsage(this.usage) };
    return out + this.emit({ type: status.status === 'completed' ? 'response.completed' : 'response.incomplete', response });
  }

  /** The gateway's `{"error": {...}}` event (a stream that broke) as `response.failed`, what OpenAI's clients read as the end. */
  private fail(error: unknown): string {
    let out = this.start({});
    this.finished = true;
    const fields = error !== null && typeof error === 'object' ? (error as Json) : {};
    const message = typeof fields.message === 'string' ? fields.message : 'The upstream stream failed';
    const code = fields.type === 'rate_limit_error' ? 'rate_limit_exceeded' : 'server_error';
    out += this.emit({ type: 'response.failed', response: { ...this.shell, status: 'failed', error: { code, message }, output: this.output, usage: responsesUsage(this.usage) } });
    return out;
  }
}
