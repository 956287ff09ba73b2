import { StringDecoder } from 'node:string_decoder';
import { UpstreamProtocolError } from './provider';
import { MAX_EVENT_CHARS } from '../sse-relay';

/**
 * Splits a provider's event stream (Google's, Anthropic's) into the `data` of its events as the bytes arrive:
 * lines end in LF, CRLF or CR (Google ends its events with CRLF CRLF), an event ends at a blank line, several
 * `data:` lines of one event are joined with a newline, other fields and comments are skipped (Anthropic's
 * `event:` name is repeated as the `type` of its data). An event that grows past MAX_EVENT_CHARS is not a chat
 * event: the stream is refused rather than buffered without end.
 */
export class ServerSentEvents {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private data: string[] = [];
  private dataChars = 0;
  /** A CR ended the last piece: a LF opening the next one belongs to it. */
  private skipLeadingLf = false;

  push(bytes: Buffer): string[] {
    return this.scan(this.decoder.write(bytes), false);
  }

  /** The stream ended: an event without its closing blank line still counts. */
  end(): string[] {
    return this.scan(this.decoder.end(), true);
  }

  private scan(text: string, final: boolean): string[] {
    const events: string[] = [];
    let input = text;
    if (this.skipLeadingLf && input.startsWith('\n')) input = input.slice(1);
    this.skipLeadingLf = false;
    input = this.pending + input;
    let start = 0;
    for (;;) {
      const cr = input.indexOf('\r', start);
      const lf = input.indexOf('\n', start);
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      if (end < 0) break;
      this.line(input.slice(start, end), events);
      start = end + 1;
      if (input[end] === '\r') {
        // CRLF is one line end; a CR at the very end may be the first half of one.
        if (start === input.length) this.skipLeadingLf = true;
        else if (input[start] === '\n') start++;
      }
    }
    this.pending = input.slice(start);
    if (this.pending.length + this.dataChars > MAX_EVENT_CHARS) {
      throw new UpstreamProtocolError(`a stream event never ended (over ${MAX_EVENT_CHARS} characters)`);
    }
    if (final) {
      if (this.pending !== '') this.line(this.pending, events);
      this.pending = '';
      this.line('', events);
    }
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push(this.data.join('\n'));
      this.data = [];
      this.dataChars = 0;
      return;
    }
    if (!line.startsWith('data:')) return;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    this.data.push(value);
    this.dataChars += value.length;
  }
}
