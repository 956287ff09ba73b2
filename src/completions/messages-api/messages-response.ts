import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AppException } from '../../errors';
import type { NativeCall } from '../providers/provider';
import { ServerSentEvents } from '../providers/server-sent-events';
import type { RequestBody } from '../request-body';
import { rejectCallerOverrides } from '../request-body';
import { anthropicErrorType } from './anthropic-error-body';
import { chatRequest } from './chat-request';
import { messagesAnswer } from './messages-answer';
import { anthropicEvent, MessagesEventWriter } from './messages-events';

/** Gateway controls a Messages caller may send as it would on chat; never sent to Anthropic. */
const GATEWAY_ONLY_FIELDS = ['no-log', 'cache'] as const;
/** Caller headers an Anthropic upstream should see: the betas decide what the body may contain. */
const FORWARDED_HEADERS = ['anthropic-beta'] as const;

/** The caller's headers that an Anthropic upstream should see. */
export function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string' && value !== '') forwarded[name] = value;
  }
  return forwarded;
}

/** Removes the gateway's own controls from a body bound for Anthropic as it is. */
export function withoutGatewayFields(body: RequestBody): RequestBody {
  for (const field of GATEWAY_ONLY_FIELDS) delete body[field];
  return body;
}

type Write = ServerResponse['write'];
type End = ServerResponse['end'];
type WriteHead = ServerResponse['writeHead'];

/**
 * The client side of `POST /v1/messages`. The chat path writes OpenAI's answers; installed on the response, this
 * rewrites them as they go out: a `chat.completion` as a Messages answer, a chunk stream as Anthropic's events (a
 * stream's `{"error"}` event as Anthropic's `error` event). Everything else — error answers, which the exception
 * filter already writes in Anthropic's envelope for this route — passes as it is, as does an answer that came from
 * an Anthropic deployment in its own format (`passThrough`).
 */
export class MessagesResponse {
  private passing = false;
  private kind: 'json' | 'events' | null = null;
  private pendingHeaders: OutgoingHttpHeaders = {};
  private readonly events = new ServerSentEvents();
  private readonly writer = new MessagesEventWriter();
  private readonly write: Write;
  private readonly end: End;
  private readonly writeHead: WriteHead;

  private constructor(private readonly res: ServerResponse) {
    this.write = res.write.bind(res);
    this.end = res.end.bind(res);
    this.writeHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, headers?: OutgoingHttpHeaders) => this.onWriteHead(status, headers)) as WriteHead;
    res.write = ((chunk: string | Buffer) => this.onWrite(chunk)) as Write;
    res.end = ((chunk?: string | Buffer) => this.onEnd(chunk)) as End;
  }

  static install(res: ServerResponse): MessagesResponse {
    return new MessagesResponse(res);
  }

  /**
   * The caller's Messages body read for the chat path, and the same call as an Anthropic deployment gets it
   * (the body unchanged but for the gateway's own fields).
   */
  read(body: RequestBody, headers: IncomingHttpHeaders): { chatBody: RequestBody; native: NativeCall } {
    rejectCallerOverrides(body);
    const chatBody = chatRequest(body);
    for (const field of GATEWAY_ONLY_FIELDS) {
      if (body[field] !== undefined) chatBody[field] = body[field];
    }
    return {
      chatBody,
      native: {
        format: 'anthropic-messages',
        body: withoutGatewayFields({ ...body }),
        headers: forwardedHeaders(headers),
        passThrough: () => {
          this.passing = true;
        },
        errorEvent: (failure: AppException) => anthropicEvent({ type: 'error', error: { type: anthropicErrorType(failure.status), message: failure.message } }),
      },
    };
  }

  private onWriteHead(status: number, headers: OutgoingHttpHeaders = {}): ServerResponse {
    if (this.passing || status !== 200) return this.writeHead(status, headers);
    const type = String(headers['content-type'] ?? '');
    if (type.includes('text/event-stream')) {
      this.kind = 'events';
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
      bytes = Buffer.from(JSON.stringify(messagesAnswer(JSON.parse(text) as Record<string, unknown>)));
    } catch {
      bytes = Buffer.from(text);
    }
    this.writeHead(200, { ...this.pendingHeaders, 'content-length': bytes.length });
    return this.end(bytes);
  }

  private translateEvents(chunk: string | Buffer, final: boolean): string {
    let out = '';
    try {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      for (const data of this.events.push(bytes)) out += this.writer.chunk(data);
      if (final) for (const data of this.events.end()) out += this.writer.chunk(data);
    } catch {
      // The chat path only ever writes complete events of bounded size: nothing to recover here.
    }
    return final ? out + this.writer.end() : out;
  }
}
