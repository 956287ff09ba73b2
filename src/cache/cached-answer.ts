import { isUsageOnlyChunk } from '../completions/sse-relay';
import { assembleStream } from '../completions/stream-assembler';

export type CachedKind = 'json' | 'sse';

const FORMAT_VERSION = '1';
const DONE_EVENT = 'data: [DONE]\n\n';

/**
 * One cached answer, as it was first produced: the upstream's JSON bytes for a plain answer, or the `data`
 * payloads of a stream in order (the usage chunk included). The cache key leaves `stream` out, so either form
 * may have to be replayed as the other; each conversion is computed once and kept with the entry, so a
 * repeated hit only writes bytes.
 */
export class CachedAnswer {
  readonly size: number;
  private jsonMemo: Buffer | null | undefined;
  private sseMemo: Array<string | null | undefined> = [undefined, undefined];

  private constructor(
    readonly kind: CachedKind,
    private readonly body: Buffer | null,
    private readonly events: readonly string[] | null,
    /** Epoch ms when the answer was first produced: what `s-maxage` compares against. */
    readonly storedAt: number,
  ) {
    let size = 64;
    if (body !== null) size += body.length;
    if (events !== null) {
      for (const event of events) size += Buffer.byteLength(event) + 8;
    }
    this.size = size;
  }

  static fromJson(body: Buffer, storedAt = Date.now()): CachedAnswer {
    return new CachedAnswer('json', body, null, storedAt);
  }

  static fromEvents(events: readonly string[], storedAt = Date.now()): CachedAnswer {
    return new CachedAnswer('sse', null, events, storedAt);
  }

  /** The stream's `data` payloads, for the call record of a replayed stream; null for a JSON entry. */
  get dataEvents(): readonly string[] | null {
    return this.events;
  }

  /** The answer for a non-stream request; null when a stored stream cannot be assembled into one. */
  jsonBody(): Buffer | null {
    if (this.jsonMemo === undefined) {
      this.jsonMemo = this.body ?? assembledJson(this.events as readonly string[]);
    }
    return this.jsonMemo;
  }

  /**
   * The SSE text for a stream request, ending with `data: [DONE]`. The usage-only chunk is left out unless the
   * caller asked for it, as on a live stream. Null when a stored JSON answer is not a chat completion.
   */
  sseBody(includeUsage: boolean): string | null {
    const slot = includeUsage ? 1 : 0;
    let text = this.sseMemo[slot];
    if (text === undefined) {
      text = this.events !== null ? eventsToSse(this.events, includeUsage) : completionToSse(this.body as Buffer, includeUsage);
      this.sseMemo[slot] = text;
    }
    return text;
  }

  /**
   * `1 <kind> <storedAt>\n<payload>`: the JSON bytes go to Redis as they are (no second JSON encoding), so a hit
   * served from Redis is byte-identical to the first answer.
   */
  serialize(): Buffer {
    const header = Buffer.from(`${FORMAT_VERSION} ${this.kind} ${this.storedAt}\n`);
    const payload = this.body ?? Buffer.from(JSON.stringify(this.events));
    return Buffer.concat([header, payload]);
  }

  /** Null for anything that is not a well-formed entry of this version (a foreign or older value is a miss). */
  static deserialize(data: Buffer): CachedAnswer | null {
    const newline = data.indexOf(0x0a);
    if (newline <= 0 || newline > 64) return null;
    const [version, kind, storedAtText] = data.subarray(0, newline).toString('latin1').split(' ');
    const storedAt = Number(storedAtText);
    if (version !== FORMAT_VERSION || !Number.isFinite(storedAt)) return null;
    const payload = data.subarray(newline + 1);
    if (kind === 'json') return CachedAnswer.fromJson(Buffer.from(payload), storedAt);
    if (kind !== 'sse') return null;
    try {
      const events: unknown = JSON.parse(payload.toString('utf8'));
      if (!Array.isArray(events) || !events.every((event) => typeof event === 'string')) return null;
      return CachedAnswer.fromEvents(events, storedAt);
    } catch {
      return null;
    }
  }
}

/**
 * Only a clean stream is worth replaying: every event a JSON object and none of them an error. A stream the
 * upstream broke off or garbled would otherwise be served again and again.
 */
export function isReplayableStream(events: readonly string[]): boolean {
  if (events.length === 0) return false;
  for (const event of events) {
    try {
      const parsed: unknown = JSON.parse(event);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || 'error' in parsed) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function eventsToSse(events: readonly string[], includeUsage: boolean): string {
  let out = '';
  for (const event of events) {
    if (!includeUsage && isUsageOnlyChunk(event)) continue;
    // A multi-line payload was joined with \n when it was read; each line needs its own `data:` field again.
    out += event.includes('\n') ? `${event.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n` : `data: ${event}\n\n`;
  }
  return out + DONE_EVENT;
}

function assembledJson(events: readonly string[]): Buffer | null {
  const { completion, malformedEvents } = assembleStream(events);
  if (malformedEvents > 0 || completion.choices.length === 0) return null;
  return Buffer.from(JSON.stringify(completion));
}

interface ToolCall {
  id?: unknown;
  type?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

/**
 * A stored chat completion as OpenAI would have streamed it: per choice a role chunk, the content (or refusal,
 * or each tool call) in one piece, a finish chunk; then the usage chunk when asked for. Chunks carry
 * `"usage": null` when usage was asked for, as OpenAI's do.
 */
function completionToSse(body: Buffer, includeUsage: boolean): string | null {
  let completion: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    completion = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!Array.isArray(completion.choices) || completion.choices.length === 0) return null;
  const base: Record<string, unknown> = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
  };
  if (completion.system_fingerprint !== undefined) base.system_fingerprint = completion.system_fingerprint;
  const usageField = includeUsage ? { usage: null } : {};
  let out = '';
  const chunk = (index: number, delta: Record<string, unknown>, finishReason: unknown): void => {
    out += `data: ${JSON.stringify({ ...base, choices: [{ index, delta, logprobs: null, finish_reason: finishReason }], ...usageField })}\n\n`;
  };
  for (const raw of completion.choices as unknown[]) {
    if (raw === null || typeof raw !== 'object') return null;
    const choice = raw as { index?: unknown; message?: Record<string, unknown>; finish_reason?: unknown };
    const index = typeof choice.index === 'number' ? choice.index : 0;
    const message = choice.message ?? {};
    chunk(index, { role: typeof message.role === 'string' ? message.role : 'assistant', content: '' }, null);
    if (typeof message.content === 'string' && message.content !== '') chunk(index, { content: message.content }, null);
    if (typeof message.refusal === 'string' && message.refusal !== '') chunk(index, { refusal: message.refusal }, null);
    if (Array.isArray(message.tool_calls)) {
      (message.tool_calls as ToolCall[]).forEach((call, position) => {
        chunk(
          index,
          {
            tool_calls: [
              {
                index: position,
                id: call.id,
                type: call.type ?? 'function',
                function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' },
              },
            ],
          },
          null,
        );
      });
    }
    chunk(index, {}, choice.finish_reason ?? 'stop');
  }
  if (includeUsage && completion.usage !== undefined && completion.usage !== null) {
    out += `data: ${JSON.stringify({ ...base, choices: [], usage: completion.usage })}\n\n`;
  }
  return out + DONE_EVENT;
}
