import type { OpenAiChunk, ProviderCall, StreamTranslator } from '../provider';
import { UpstreamErrorEvent, UpstreamProtocolError } from '../provider';
import { finishReasonOfStop, parseJsonObject } from '../provider-support';
import { completionId, openAiUsage } from './converse-answer';
import { EventStreamFrames, type EventFrame } from './event-stream-frames';

type Json = Record<string, unknown>;

/**
 * A ConverseStream answer (AWS event-stream messages) as OpenAI chunks: `messageStart` opens the assistant turn,
 * `contentBlockStart` announces a tool call (id and name), `contentBlockDelta` carries text, reasoning or a
 * fragment of a tool call's JSON input, `messageStop` the stop reason and `metadata` the usage, which ends the
 * stream with OpenAI's usage chunk. Tool calls are numbered 0, 1, … in the order they start, whatever Bedrock's
 * content-block indexes. An exception message is the provider's error event; an event of another kind, a message
 * that fails its checksum, or an end before `messageStop` and `metadata` is a protocol error.
 */
export class ConverseStreamTranslator implements StreamTranslator {
  private readonly frames = new EventStreamFrames();
  private readonly id: string;
  private readonly created = Math.floor(Date.now() / 1000);
  /** Bedrock's content-block index → the OpenAI tool-call index. */
  private readonly toolIndexes = new Map<number, number>();
  private stopped = false;
  private finished = false;

  constructor(private readonly call: ProviderCall) {
    this.id = completionId(call);
  }

  push(bytes: Buffer): readonly OpenAiChunk[] {
    const chunks: OpenAiChunk[] = [];
    for (const frame of this.frames.push(bytes)) this.translate(frame, chunks);
    return chunks;
  }

  end(): readonly OpenAiChunk[] {
    if (this.frames.pendingBytes > 0) throw new UpstreamProtocolError('the stream ended inside an event-stream message');
    if (!this.stopped || !this.finished) throw new UpstreamProtocolError('the stream ended before messageStop and metadata');
    return [];
  }

  private translate(frame: EventFrame, chunks: OpenAiChunk[]): void {
    const kind = frame.messageType;
    if (kind === 'exception') {
      const type = frame.exceptionType ?? 'exception';
      const message = readMessage(frame.body);
      throw new UpstreamErrorEvent(message === null ? type : `${type}: ${message}`);
    }
    if (kind === 'error') {
      const code = frame.errorCode ?? 'error';
      const message = frame.errorMessage;
      throw new UpstreamErrorEvent(message === undefined ? code : `${code}: ${message}`);
    }
    if (kind !== 'event') throw new UpstreamProtocolError(`an event-stream message of type ${quoted(kind)}`);
    const type = frame.eventType;
    const event = parseJsonObject(frame.body, () => `the ${quoted(type)} event is not a JSON object`);
    switch (type) {
      case 'messageStart':
        chunks.push(this.chunk({ role: 'assistant', content: '' }));
        return;
      case 'contentBlockStart':
        this.blockStart(event, chunks);
        return;
      case 'contentBlockDelta':
        this.blockDelta(event, chunks);
        return;
      case 'contentBlockStop':
        return;
      case 'messageStop':
        this.stopped = true;
        chunks.push(this.chunk({}, finishReasonOfStop(event.stopReason)));
        return;
      case 'metadata':
        this.finished = true;
        chunks.push({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.call.upstreamModel, choices: [], usage: openAiUsage(event.usage) });
        return;
      default:
        throw new UpstreamProtocolError(`an unknown event ${quoted(type)}`);
    }
  }

  private blockStart(event: Json, chunks: OpenAiChunk[]): void {
    const toolUse = (event.start as Json | undefined)?.toolUse as Json | undefined;
    if (toolUse === undefined || toolUse === null) return;
    const block = blockIndex(event);
    if (typeof toolUse.toolUseId !== 'string' || typeof toolUse.name !== 'string') throw new UpstreamProtocolError('a toolUse start without toolUseId or name');
    const index = this.toolIndexes.size;
    this.toolIndexes.set(block, index);
    chunks.push(this.chunk({ tool_calls: [{ index, id: toolUse.toolUseId, type: 'function', function: { name: toolUse.name, arguments: '' } }] }));
  }

  private blockDelta(event: Json, chunks: OpenAiChunk[]): void {
    const delta = event.delta;
    if (delta === null || typeof delta !== 'object') throw new UpstreamProtocolError('a contentBlockDelta without a delta');
    const d = delta as Json;
    if (typeof d.text === 'string') {
      chunks.push(this.chunk({ content: d.text }));
      return;
    }
    const toolInput = (d.toolUse as Json | undefined)?.input;
    if (typeof toolInput === 'string') {
      const index = this.toolIndexes.get(blockIndex(event));
      if (index === undefined) throw new UpstreamProtocolError('a toolUse delta for a content block that never started');
      chunks.push(this.chunk({ tool_calls: [{ index, function: { arguments: toolInput } }] }));
      return;
    }
    const reasoning = (d.reasoningContent as Json | undefined)?.text;
    if (typeof reasoning === 'string') chunks.push(this.chunk({ reasoning_content: reasoning }));
    // Other deltas (a reasoning signature, citations) have no OpenAI counterpart and are passed over.
  }

  private chunk(delta: Json, finish: string | null = null): OpenAiChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.call.upstreamModel,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }
}

function blockIndex(event: Json): number {
  const index = event.contentBlockIndex;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new UpstreamProtocolError('an event without a contentBlockIndex');
  return index;
}

/** An exception's `{"message": …}` (AWS writes `Message` in some services). */
function readMessage(body: Uint8Array): string | null {
  try {
    const parsed = parseJsonObject(body, () => 'exception');
    const message = parsed.message ?? parsed.Message;
    return typeof message === 'string' ? message : null;
  } catch {
    return null;
  }
}

/** An event or message type name for an error text: short names only (the gateway never echoes arbitrary bytes). */
function quoted(name: string | undefined): string {
  return name !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(name) ? `"${name}"` : '(unnamed)';
}
