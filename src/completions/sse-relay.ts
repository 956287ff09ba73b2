import { StringDecoder } from 'node:string_decoder';

/** The headers of every event stream the gateway answers (relayed, offline or replayed from the cache). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * Sits between the upstream SSE body and the client. It splits the byte stream into events only as far as
 * needed to (a) keep each event's `data` text for the call record, assembled after the stream ends, and
 * (b) drop the usage-only chunk the gateway asked for on the caller's behalf. When nothing has to be dropped
 * the upstream chunk is forwarded untouched, so the client sees exactly the upstream bytes.
 */
export class SseRelay {
  /** `data` payloads in arrival order, `[DONE]` excluded; parsed only when the record is built. */
  readonly dataEvents: string[] = [];
  sawDone = false;
  /** Epoch ms of the first event carrying a choice; 0 until then. */
  firstTokenAt = 0;

  private readonly decoder = new StringDecoder('utf8');
  /** Text of an incomplete line. */
  private partialLine = '';
  /** Raw text of the event being read, kept only when stripping (it may have to be withheld). */
  private eventText = '';
  private eventData: string | null = null;
  /** Complete events waiting to be written, only used when stripping. */
  private output = '';

  constructor(private readonly stripUsageChunk: boolean) {}

  /** True while the client has seen part of an event (only possible when chunks are forwarded untouched). */
  get midEvent(): boolean {
    return !this.stripUsageChunk && (this.partialLine !== '' || this.eventData !== null);
  }

  /**
   * Feeds one upstream chunk. Returns what to send to the client now: the chunk itself when nothing is
   * stripped, otherwise the complete events it finished (possibly an empty string).
   */
  push(chunk: Buffer): Buffer | string {
    this.scan(this.decoder.write(chunk));
    if (!this.stripUsageChunk) {
      return chunk;
    }
    const out = this.output;
    this.output = '';
    return out;
  }

  /**
   * Call when the upstream ended. Returns what the client still needs so that its last event is complete:
   * the withheld events when stripping, else just the line breaks the upstream left out.
   */
  end(): string {
    const rest = this.decoder.end();
    if (rest) {
      this.scan(rest);
    }
    const terminator = this.partialLine !== '' ? '\n\n' : this.eventData !== null ? '\n' : '';
    if (this.partialLine !== '') {
      this.line(this.partialLine);
      this.partialLine = '';
    }
    if (this.eventData !== null || this.eventText !== '') {
      if (this.stripUsageChunk) {
        this.eventText += '\n';
      }
      this.dispatch();
    }
    const out = this.output;
    this.output = '';
    return this.stripUsageChunk ? out : terminator;
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
    this.dataEvents.push(data);
    const usageOnly = isUsageOnlyChunk(data);
    if (!usageOnly && this.firstTokenAt === 0) {
      this.firstTokenAt = Date.now();
    }
    if (!(usageOnly && this.stripUsageChunk)) {
      this.output += text;
    }
  }
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
