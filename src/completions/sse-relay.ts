import { StringDecoder } from 'node:string_decoder';

/** The headers of every event stream the gateway answers (relayed, offline or replayed from the cache). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * Why a relay stopped: an event that is neither a JSON object nor `[DONE]`, or that never ends (the upstream broke
 * OpenAI's event-stream protocol), or an error event (`{"error": ...}`), whose text may quote a credential and is
 * answered by the gateway.
 */
export type StreamFault = { readonly kind: 'malformed' } | { readonly kind: 'oversized' } | { readonly kind: 'error'; readonly data: string };

const MALFORMED: StreamFault = { kind: 'malformed' };
/** An event still open past this size is not a chat chunk: it would only grow the relay's memory. */
export const MAX_EVENT_CHARS = 16 * 1024 * 1024;
const NOTHING = Buffer.alloc(0);

/**
 * Sits between the upstream SSE body and the client. It splits the byte stream into events only as far as
 * needed to (a) keep each event's `data` text for the call record, assembled after the stream ends, (b) drop the
 * usage-only chunk the gateway asked for on the caller's behalf, and (c) stop at the first faulty event (see
 * StreamFault) before the client sees any of it. The client only ever gets complete events: when nothing has to be
 * dropped they are the upstream's bytes untouched, an event cut across chunks is held back until its end arrives.
 */
export class SseRelay {
  /** `data` payloads in arrival order, `[DONE]` excluded; parsed only when the record is built. */
  readonly dataEvents: string[] = [];
  sawDone = false;
  /** Epoch ms of the first event carrying a choice; 0 until then. */
  firstTokenAt = 0;
  /** Set at the first faulty event; neither it nor anything after it is forwarded. */
  fault: StreamFault | null = null;

  private readonly decoder = new StringDecoder('utf8');
  /** Text of an incomplete line. */
  private partialLine = '';
  /** Raw text of the event being read, kept only when stripping (it may have to be withheld). */
  private eventText = '';
  private eventData: string | null = null;
  /** True once the event being read has a line: it is incomplete until its blank line. */
  private eventOpen = false;
  /** Complete events waiting to be written, only used when stripping. */
  private output = '';
  /** Pass-through only: the bytes of the incomplete event at the end of what arrived, not forwarded yet. */
  private held: Buffer | null = null;

  constructor(private readonly stripUsageChunk: boolean) {}

  /**
   * Feeds one upstream chunk. Returns what to send to the client now: the complete events it finished (when
   * nothing is stripped, as the upstream's bytes; possibly empty). After a fault, the events before the faulty one
   * and nothing more: the caller then ends the stream with its own error event.
   */
  push(chunk: Buffer): Buffer | string {
    if (this.fault !== null) {
      return '';
    }
    const eventsBefore = this.dataEvents.length;
    this.scan(this.decoder.write(chunk));
    if (this.partialLine.length > MAX_EVENT_CHARS || (this.eventData?.length ?? 0) > MAX_EVENT_CHARS) {
      this.fault = { kind: 'oversized' };
    }
    if (this.stripUsageChunk) {
      const out = this.output;
      this.output = '';
      return out;
    }
    if (this.fault !== null) {
      // Rare and final: the good events of this chunk, re-sent as the data lines they were.
      this.held = null;
      return this.dataEvents
        .slice(eventsBefore)
        .map((data) => `data: ${data}\n\n`)
        .join('');
    }
    return this.forwardComplete(chunk);
  }

  /**
   * Call when the upstream ended. Returns what the client still needs so that its last event is complete: the
   * withheld events when stripping, else the held bytes plus the line breaks the upstream left out. Empty when the
   * last event was faulty.
   */
  end(): string {
    if (this.fault !== null) {
      return '';
    }
    const rest = this.decoder.end();
    if (rest) {
      this.scan(rest);
    }
    const terminator = this.partialLine !== '' ? '\n\n' : this.eventOpen ? '\n' : '';
    if (this.partialLine !== '' && this.fault === null) {
      this.line(this.partialLine);
      this.partialLine = '';
    }
    if (this.fault === null && (this.eventData !== null || this.eventText !== '')) {
      if (this.stripUsageChunk) {
        this.eventText += '\n';
      }
      this.dispatch();
    }
    if (this.fault !== null) {
      return '';
    }
    if (this.stripUsageChunk) {
      const out = this.output;
      this.output = '';
      return out;
    }
    const held = this.held === null ? '' : this.held.toString('utf8');
    this.held = null;
    return held + terminator;
  }

  /** Pass-through: the complete events up to the end of this chunk as bytes; an incomplete last event is held back. */
  private forwardComplete(chunk: Buffer): Buffer {
    const bytes = this.held === null ? chunk : Buffer.concat([this.held, chunk]);
    if (this.partialLine === '' && !this.eventOpen) {
      this.held = null;
      return bytes;
    }
    const cut = lastEventEnd(bytes);
    // A copy: the tail is small, and the chunk it came from need not stay alive for it.
    this.held = Buffer.from(bytes.subarray(cut));
    return cut === 0 ? NOTHING : bytes.subarray(0, cut);
  }

  private scan(text: string): void {
    let start = 0;
    let newline = text.indexOf('\n');
    if (newline === -1) {
      this.partialLine += text;
      return;
    }
    let line = this.partialLine + text.slice(0, newline);
    this.partialLine = '';
    for (;;) {
      this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (this.fault !== null) {
        return;
      }
      start = newline + 1;
      newline = text.indexOf('\n', start);
      if (newline === -1) {
        break;
      }
      line = text.slice(start, newline);
    }
    this.partialLine = text.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.stripUsageChunk) {
        this.eventText += '\n';
      }
      this.dispatch();
      return;
    }
    this.eventOpen = true;
    if (this.stripUsageChunk) {
      this.eventText += `${line}\n`;
    }
    if (line.startsWith('data:')) {
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      this.eventData = this.eventData === null ? value : `${this.eventData}\n${value}`;
    }
  }

  private dispatch(): void {
    const data = this.eventData;
    const text = this.eventText;
    this.eventData = null;
    this.eventText = '';
    this.eventOpen = false;
    if (data === null) {
      // Comments and keep-alives carry no data but are still the upstream's bytes.
      this.output += text;
      return;
    }
    if (data === '[DONE]') {
      this.sawDone = true;
      this.output += text;
      return;
    }
    if (!this.sawDone) {
      const fault = faultOf(data);
      if (fault !== null) {
        this.fault = fault;
        return;
      }
    }
    this.dataEvents.push(data);
    const usageOnly = isUsageOnlyChunk(data);
    // Only a chunk with a choice counts (Azure's first chunk carries prompt filter results and no choices).
    if (!usageOnly && this.firstTokenAt === 0 && !EMPTY_CHOICES.test(data)) {
      this.firstTokenAt = Date.now();
    }
    if (!(usageOnly && this.stripUsageChunk)) {
      this.output += text;
    }
  }
}

/**
 * The cheap shape check every event passes: braces at both ends, and no `"error"` key. A full parse would cost
 * the request loop on every chunk; events that pass this and are still broken inside are counted when the record
 * is assembled, after the stream (see stream-assembler.ts).
 */
export function faultOf(data: string): StreamFault | null {
  const last = data.length - 1;
  if (last < 1 || data.charCodeAt(0) !== 123 /* { */ || data.charCodeAt(last) !== 125 /* } */) {
    const trimmed = data.trim();
    if (!(trimmed.startsWith('{') && trimmed.endsWith('}'))) {
      return MALFORMED;
    }
  }
  if (!hasErrorKey(data)) {
    return null;
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return MALFORMED;
  }
  return (parsed.error !== undefined && parsed.error !== null) || parsed.object === 'error' ? { kind: 'error', data } : null;
}

/**
 * Whether `"error"` occurs in the text (as a key, or rarely a value: the parse that follows decides). Searched as
 * `rror"`, whose first letter is rare in chat chunks where `"` is everywhere: a third of the cost per event.
 * Escaped quotes inside strings (`\"error\"`) never match.
 */
function hasErrorKey(data: string): boolean {
  for (let at = data.indexOf('rror"', 2); at !== -1; at = data.indexOf('rror"', at + 5)) {
    if (data.charCodeAt(at - 1) === 101 /* e */ && data.charCodeAt(at - 2) === 34 /* " */) {
      return true;
    }
  }
  return false;
}

/** Offset just past the last blank line (the end of the last complete event) in `bytes`, or 0. */
function lastEventEnd(bytes: Buffer): number {
  for (let i = bytes.lastIndexOf(10); i > 0; i = bytes.lastIndexOf(10, i - 1)) {
    if (bytes[i - 1] === 10 || (bytes[i - 1] === 13 && i > 1 && bytes[i - 2] === 10)) {
      return i + 1;
    }
  }
  return 0;
}

const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;

/** The extra chunk `stream_options.include_usage` produces: no choices, a usage object. */
export function isUsageOnlyChunk(data: string): boolean {
  // String checks first: every chunk of such a stream carries `"usage":null`, so only a few get parsed.
  if (!data.includes('"usage"') || !EMPTY_CHOICES.test(data)) {
    return false;
  }
  try {
    const parsed = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return Array.isArray(parsed.choices) && parsed.choices.length === 0 && typeof parsed.usage === 'object' && parsed.usage !== null;
  } catch {
    return false;
  }
}
