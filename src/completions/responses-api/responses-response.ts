import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AppException } from '../../errors';
import type { NativeCall } from '../providers/provider';
import { ServerSentEvents } from '../providers/server-sent-events';
import { rejectCallerOverrides, type RequestBody } from '../request-body';
import { readResponsesRequest } from './chat-request';
import { responsesReading } from './chat-reading';
import { responsesAnswer } from './responses-answer';
import { responsesEvent, ResponsesEventWriter } from './responses-events';

type Write = ServerResponse['write'];
type End = ServerResponse['end'];
type WriteHead = ServerResponse['writeHead'];

export interface ResponsesRead {
  readonly chatBody: RequestBody;
  readonly native: NativeCall;
  /**
   * False when the chat body does not hold all the request (a previous response, a built-in tool): two such
   * calls with the same chat body may want different answers, so none is read from or written to the cache.
   */
  readonly cacheable: boolean;
}

/**
 * The client side of `POST /v1/responses`. The chat path writes OpenAI's chat answers; installed on the response,
 * this rewrites them as they go out: a `chat.completion` as a Responses `response`, a chunk stream as the Responses
 * events (a stream's `{"error"}` event as `response.failed`). Error answers pass as they are (OpenAI's envelope is
 * the Responses API's too), as does what an OpenAI or Azure deployment answered in its own format (`passThrough`).
 */
export class ResponsesResponse {
  /** The id of the response the upstream made and keeps, once its native answer was read. */
  upstreamId: string | null = null;
  private passing = false;
  private kind: 'json' | 'events' | null = null;
  private pendingHeaders: OutgoingHttpHeaders = {};
  private request: RequestBody = {};
  private readonly events = new ServerSentEvents();
  private writer: ResponsesEventWriter | null = null;
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

  static install(res: ServerResponse): ResponsesResponse {
    return new ResponsesResponse(res);
  }

  /** The caller's Responses body read for the chat path, and the same call as an OpenAI or Azure deployment gets it. */
  read(body: RequestBody): ResponsesRead {
    rejectCallerOverrides(body);
    const { chatBody, problem } = readResponsesRequest(body);
    this.request = body;
    const translation = responsesReading((id) => {
      this.upstreamId = id;
    });
    return {
      chatBody,
      cacheable: problem === null,
      native: {
        format: 'openai-responses',
        // The provider leaves the gateway's own fields out (native-body.ts).
        body,
        headers: {},
        passThrough: () => {
          this.passing = true;
        },
        errorEvent: (failure: AppException) =>
          responsesEvent({ type: 'error', code: failure.code, message: failure.message, param: null, sequence_number: translation.lastSequence() + 1 }),
        translation,
        chatProblem: problem,
      },
    };
  }

  private onWriteHead(status: number, headers: OutgoingHttpHeaders = {}): ServerResponse {
    if (this.passing || status !== 200) return this.writeHead(status, headers);
    const type = String(headers['content-type'] ?? '');
    if (type.includes('text/event-stream')) {
      this.kind = 'events';
      this.writer = new ResponsesEventWriter(this.request);
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
      bytes = Buffer.from(JSON.stringify(responsesAnswer(JSON.parse(text) as Record<string, unknown>, this.request)));
    } catch {
      bytes = Buffer.from(text);
    }
    this.writeHead(200, { ...this.pendingHeaders, 'content-length': bytes.length });
    return this.end(bytes);
  }

  private translateEvents(chunk: string | Buffer, final: boolean): string {
    const writer = this.writer as ResponsesEventWriter;
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
