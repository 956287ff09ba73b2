import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ServerSentEvents } from './providers/server-sent-events';

type Write = ServerResponse['write'];
type End = ServerResponse['end'];
type WriteHead = ServerResponse['writeHead'];

type Json = Record<string, unknown>;

/** One `data` text of the chat path's stream, read: its end, the gateway's error event, or a chunk and its first choice. */
export type ChatStreamData =
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'chunk'; readonly chunk: Json; readonly choice: Json | undefined; readonly delta: Json };

/** Null for data that is none of these (the chat path writes none; a rewriter skips it). */
export function readChatStreamData(data: string): ChatStreamData | null {
  if (data.trim() === '[DONE]') return { kind: 'done' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const chunk = parsed as Json;
  if (chunk.error !== undefined) return { kind: 'error', error: chunk.error };
  const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as Json | undefined) : undefined;
  return { kind: 'chunk', chunk, choice, delta: (choice?.delta as Json | undefined) ?? {} };
}

/** Turns the chat path's chunk stream (one `data` text at a time, see readChatStreamData) into another API's events. */
export interface EventRewriter {
  chunk(data: string): string;
  /** The stream ended: whatever closes it in the other API's format. */
  end(): string;
}

/**
 * The client side of a route that speaks another API than chat (`/v1/messages`, `/v1/responses`). The chat path
 * writes OpenAI's answers; installed on the response, this rewrites them as they go out: a `chat.completion` through
 * `rewriteAnswer`, a chunk stream through an EventRewriter. Error answers pass as they are (the exception filter
 * writes them in the route's envelope), as does an answer the upstream gave in the caller's own format
 * (`passThrough`).
 */
export abstract class AnswerRewriter {
  private passing = false;
  private kind: 'json' | 'events' | null = null;
  private pendingHeaders: OutgoingHttpHeaders = {};
  private readonly events = new ServerSentEvents();
  private writer: EventRewriter | null = null;
  private readonly write: Write;
  private readonly end: End;
  private readonly writeHead: WriteHead;

  protected constructor(private readonly res: ServerResponse) {
    this.write = res.write.bind(res);
    this.end = res.end.bind(res);
    this.writeHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, headers?: OutgoingHttpHeaders) => this.onWriteHead(status, headers)) as WriteHead;
    res.write = ((chunk: string | Buffer) => this.onWrite(chunk)) as Write;
    res.end = ((chunk?: string | Buffer) => this.onEnd(chunk)) as End;
  }

  /** The upstream answered in the caller's format: its bytes go out unchanged. */
  protected passThrough(): void {
    this.passing = true;
  }

  protected abstract rewriteAnswer(completion: Record<string, unknown>): unknown;

  protected abstract eventRewriter(): EventRewriter;

  private onWriteHead(status: number, headers: OutgoingHttpHeaders = {}): ServerResponse {
    if (this.passing || status !== 200) return this.writeHead(status, headers);
    const type = String(headers['content-type'] ?? '');
    if (type.includes('text/event-stream')) {
      this.kind = 'events';
      this.writer = this.eventRewriter();
      return this.writeHead(status, headers);
    }
    // A JSON answer changes length when rewritten: its head goes out with the rewritten body.
    this.kind = 'json';
    this.pendingHeaders = { ...headers };
    delete this.pendingHeaders['content-length'];
    return this.res;
  }

  private onWrite(chunk: string | Buffer): boolean {
    if (this.passing || this.kind !== 'events') return this.write(chunk);
    const out = this.translateEvents(chunk, false);
    return out === '' ? true : this.write(out);
  }

  private onEnd(chunk?: string | Buffer): ServerResponse {
    if (this.passing || this.kind === null) return chunk === undefined ? this.end() : this.end(chunk);
    if (this.kind === 'events') return this.end(this.translateEvents(chunk ?? '', true));
    const text = chunk === undefined ? '' : chunk.toString();
    let bytes: Buffer;
    try {
      bytes = Buffer.from(JSON.stringify(this.rewriteAnswer(JSON.parse(text) as Record<string, unknown>)));
    } catch {
      bytes = Buffer.from(text);
    }
    this.writeHead(200, { ...this.pendingHeaders, 'content-length': bytes.length });
    return this.end(bytes);
  }

  private translateEvents(chunk: string | Buffer, final: boolean): string {
    const writer = this.writer as EventRewriter;
    let out = '';
    try {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      for (const data of this.events.push(bytes)) out += writer.chunk(data);
      if (final) for (const data of this.events.end()) out += writer.chunk(data);
    } catch {
      // The chat path only ever writes complete events of bounded size: nothing to recover here.
    }
    return final ? out + writer.end() : out;
  }
}
