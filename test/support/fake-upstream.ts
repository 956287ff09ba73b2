import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An OpenAI-compatible upstream on 127.0.0.1 for tests: chat and legacy text completions (JSON and SSE), embeddings
 * and models, plus
 * the failure modes a gateway must survive. It records what it received and what it sent, so a test can
 * compare the gateway's answer byte for byte with the upstream's.
 */

export type FakeBehaviour =
  | { readonly type: 'ok' }
  | { readonly type: 'status'; readonly status: number; readonly body: string; readonly headers?: Record<string, string> }
  /** Accepts the request and never answers. */
  | { readonly type: 'hang' }
  /** Streams `afterChunks` content chunks, then destroys the socket. */
  | { readonly type: 'close-mid-stream'; readonly afterChunks: number }
  /** Destroys the socket without answering. */
  | { readonly type: 'destroy' }
  /**
   * A 200 whose body is these raw pieces, one write each (default type text/event-stream): for streams that break
   * the protocol or carry an error event. With `hang`, the answer then stays open.
   */
  | { readonly type: 'raw-stream'; readonly pieces: readonly string[]; readonly contentType?: string; readonly hang?: boolean }
  /**
   * The normal answer, paused until `until` resolves: a stream after its first `afterChunks` content chunks (a
   * long generation the caller is reading), a JSON answer before it is sent.
   */
  | { readonly type: 'stall'; readonly until: Promise<void>; readonly afterChunks?: number };

export interface FakeToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface FakeUpstreamOptions {
  /** The assistant's answer (default "Hello from the fake upstream!"). */
  content?: string;
  /** Stream deltas; default: `content` split into words. */
  chunks?: readonly string[];
  /** Delay before each stream chunk. */
  chunkDelayMs?: number;
  /** Streams (and returns) one tool call instead of text when set. */
  toolCall?: FakeToolCall;
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Default behaviour for every request; a function can decide per request. */
  behaviour?: FakeBehaviour | ((request: RecordedRequest) => FakeBehaviour);
  /** Models for GET /v1/models. */
  models?: readonly string[];
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** Parsed JSON body, or null. */
  readonly body: Record<string, unknown> | null;
  /** The exact bytes the fake sent back (for streams, every chunk concatenated), filled as it answers. */
  sent: string;
  /** True when the caller went away before the answer was complete. */
  clientAborted: boolean;
  finished: boolean;
}

export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: FakeBehaviour[] = [];
  private readonly sockets = new Set<Socket>();
  private abortWaiters: Array<() => void> = [];
  private requestWaiters: Array<{ count: number; resolve: () => void }> = [];
  private port = 0;

  private constructor(
    private readonly server: Server,
    readonly options: FakeUpstreamOptions,
  ) {}

  static async start(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
    let fake: FakeUpstream | null = null;
    const server = createServer((req, res) => {
      void (fake as FakeUpstream).handle(req, res);
    });
    fake = new FakeUpstream(server, options);
    server.on('connection', (socket: Socket) => {
      fake?.sockets.add(socket);
      socket.once('close', () => fake?.sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    fake.port = (server.address() as AddressInfo).port;
    return fake;
  }

  /** Base URL including `/v1`, as `api_base` expects it. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get count(): number {
    return this.requests.length;
  }

  get abortedCount(): number {
    return this.requests.filter((r) => r.clientAborted).length;
  }

  get last(): RecordedRequest {
    const last = this.requests[this.requests.length - 1];
    if (!last) {
      throw new Error('The fake upstream has not received any request');
    }
    return last;
  }

  /** Behaviours used by the next requests, one each, before the default applies again. */
  next(...behaviours: FakeBehaviour[]): this {
    this.queue.push(...behaviours);
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
  }

  /** Resolves once some request saw its caller disconnect. */
  waitForAbort(timeoutMs = 5000): Promise<void> {
    if (this.abortedCount > 0) {
      return Promise.resolve();
    }
    return withTimeout(
      new Promise<void>((resolve) => this.abortWaiters.push(resolve)),
      timeoutMs,
      'the upstream never saw the client abort',
    );
  }

  /** Resolves once at least `count` requests arrived. */
  waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    if (this.requests.length >= count) {
      return Promise.resolve();
    }
    return withTimeout(
      new Promise<void>((resolve) => this.requestWaiters.push({ count, resolve })),
      timeoutMs,
      `the upstream did not receive ${count} request(s)`,
    );
  }

  /** The non-stream chat answer this fake gives for a model, as the exact JSON text. */
  chatCompletionText(model: string): string {
    return JSON.stringify(this.chatCompletion(model));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> | null = null;
    try {
      body = rawBody ? (JSON.parse(rawBody) as Record<string, unknown>) : null;
    } catch {
      body = null;
    }
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      rawBody,
      body,
      sent: '',
      clientAborted: false,
      finished: false,
    };
    this.requests.push(record);
    this.requestWaiters = this.requestWaiters.filter((waiter) => {
      if (this.requests.length >= waiter.count) {
        waiter.resolve();
        return false;
      }
      return true;
    });
    res.once('close', () => {
      if (!res.writableFinished && !record.finished) {
        record.clientAborted = true;
        const waiters = this.abortWaiters;
        this.abortWaiters = [];
        waiters.forEach((resolve) => resolve());
      }
    });

    const configured = this.options.behaviour ?? { type: 'ok' };
    const behaviour = this.queue.shift() ?? (typeof configured === 'function' ? configured(record) : configured);
    const send = (text: string): void => {
      record.sent += text;
      res.write(text);
    };

    switch (behaviour.type) {
      case 'hang':
        return;
      case 'destroy':
        req.socket.destroy();
        return;
      case 'status':
        record.sent = behaviour.body;
        record.finished = true;
        res.writeHead(behaviour.status, { 'content-type': 'application/json', ...behaviour.headers });
        res.end(behaviour.body);
        return;
      case 'raw-stream':
        res.writeHead(200, { 'content-type': behaviour.contentType ?? 'text/event-stream' });
        for (const piece of behaviour.pieces) {
          send(piece);
          await sleep(5);
          if (res.destroyed) return;
        }
        if (!behaviour.hang) {
          record.finished = true;
          res.end();
        }
        return;
      case 'ok':
      case 'close-mid-stream':
      case 'stall':
        break;
    }

    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path.endsWith('/models')) {
      this.json(res, record, {
        object: 'list',
        data: (this.options.models ?? ['fake-model']).map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
      });
      return;
    }
    if (req.method === 'POST' && path.endsWith('/embeddings')) {
      const input = body?.input;
      const inputs = Array.isArray(input) ? input : [input];
      this.json(res, record, {
        object: 'list',
        data: inputs.map((_, index) => {
          const vector = [0.1 * (index + 1), 0.2, 0.3];
          // The openai SDK asks for base64 by default and decodes little-endian float32s.
          const embedding =
            body?.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
          return { object: 'embedding', index, embedding };
        }),
        model: modelName(body),
        usage: { prompt_tokens: 5 * inputs.length, total_tokens: 5 * inputs.length },
      });
      return;
    }
    // `/completions` without `/chat`: the legacy text route (`text_completion` objects and chunks).
    const textRoute = !path.endsWith('/chat/completions');
    if (req.method !== 'POST' || !path.endsWith('/completions')) {
      record.finished = true;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } }));
      return;
    }

    const model = modelName(body);
    if (body?.stream !== true) {
      if (behaviour.type === 'stall') await behaviour.until;
      if (res.destroyed) return;
      this.json(res, record, textRoute ? this.textCompletion(model) : this.chatCompletion(model));
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const includeUsage =
      typeof body.stream_options === 'object' &&
      body.stream_options !== null &&
      (body.stream_options as Record<string, unknown>).include_usage === true;
    const events = textRoute ? this.textStreamEvents(model, includeUsage) : this.streamEvents(model, includeUsage);
    const cutAfter = behaviour.type === 'close-mid-stream' ? behaviour.afterChunks : Infinity;
    const stallAfter = behaviour.type === 'stall' ? (behaviour.afterChunks ?? 1) : Infinity;
    let contentSent = 0;
    for (const event of events) {
      if (res.destroyed) {
        return;
      }
      if (behaviour.type === 'stall' && event.content && contentSent === stallAfter) {
        await behaviour.until;
        if (res.destroyed) {
          return;
        }
      }
      if (this.options.chunkDelayMs) {
        await sleep(this.options.chunkDelayMs);
        if (res.destroyed) {
          return;
        }
      }
      if (event.content && contentSent >= cutAfter) {
        record.finished = true;
        // Let the chunks already written reach the caller; destroy() would discard unflushed writes.
        await sleep(30);
        req.socket.destroy();
        return;
      }
      send(event.text);
      if (event.content) {
        contentSent++;
      }
    }
    record.finished = true;
    res.end();
  }

  private json(res: ServerResponse, record: RecordedRequest, value: unknown): void {
    const text = JSON.stringify(value);
    record.sent = text;
    record.finished = true;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private get content(): string {
    return this.options.content ?? 'Hello from the fake upstream!';
  }

  private get usage(): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
    const usage = this.options.usage ?? { prompt_tokens: 11, completion_tokens: 7 };
    return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
  }

  private chatCompletion(model: string): Record<string, unknown> {
    const tool = this.options.toolCall;
    return {
      id: 'chatcmpl-fake-1',
      object: 'chat.completion',
      created: 1700000000,
      model,
      choices: [
        {
          index: 0,
          message: tool
            ? {
                role: 'assistant',
                content: null,
                tool_calls: [{ id: tool.id, type: 'function', function: { name: tool.name, arguments: tool.arguments } }],
              }
            : { role: 'assistant', content: this.content },
          logprobs: null,
          finish_reason: tool ? 'tool_calls' : 'stop',
        },
      ],
      usage: this.usage,
      system_fingerprint: 'fp_fake',
    };
  }

  private textCompletion(model: string): Record<string, unknown> {
    return {
      id: 'cmpl-fake-1',
      object: 'text_completion',
      created: 1700000000,
      model,
      choices: [{ text: this.content, index: 0, logprobs: null, finish_reason: 'stop' }],
      usage: this.usage,
    };
  }

  private textStreamEvents(model: string, includeUsage: boolean): Array<{ text: string; content: boolean }> {
    const base = { id: 'cmpl-fake-1', object: 'text_completion', created: 1700000000, model };
    const event = (text: string, finish: string | null, content: boolean) => ({
      text: `data: ${JSON.stringify({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] })}\n\n`,
      content,
    });
    const events = (this.options.chunks ?? this.content.split(/(?<= )/)).map((piece) => event(piece, null, true));
    events.push(event('', 'stop', false));
    if (includeUsage) {
      events.push({ text: `data: ${JSON.stringify({ ...base, choices: [], usage: this.usage })}\n\n`, content: false });
    }
    events.push({ text: 'data: [DONE]\n\n', content: false });
    return events;
  }

  private streamEvents(model: string, includeUsage: boolean): Array<{ text: string; content: boolean }> {
    const base = { id: 'chatcmpl-fake-1', object: 'chat.completion.chunk', created: 1700000000, model, system_fingerprint: 'fp_fake' };
    const usageField = includeUsage ? { usage: null } : {};
    const event = (delta: Record<string, unknown>, finish: string | null, content: boolean) => ({
      text: `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usageField })}\n\n`,
      content,
    });
    const events = [event({ role: 'assistant', content: '' }, null, false)];
    const tool = this.options.toolCall;
    if (tool) {
      events.push(
        event({ tool_calls: [{ index: 0, id: tool.id, type: 'function', function: { name: tool.name, arguments: '' } }] }, null, true),
      );
      const half = Math.ceil(tool.arguments.length / 2);
      for (const piece of [tool.arguments.slice(0, half), tool.arguments.slice(half)]) {
        events.push(event({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null, true));
      }
      events.push(event({}, 'tool_calls', false));
    } else {
      const pieces = this.options.chunks ?? this.content.split(/(?<= )/);
      for (const piece of pieces) {
        events.push(event({ content: piece }, null, true));
      }
      events.push(event({}, 'stop', false));
    }
    if (includeUsage) {
      events.push({ text: `data: ${JSON.stringify({ ...base, choices: [], usage: this.usage })}\n\n`, content: false });
    }
    events.push({ text: 'data: [DONE]\n\n', content: false });
    return events;
  }
}

/** The request's `model` as `String` shows it, '' when there is none. */
function modelName(body: Record<string, unknown> | null): string {
  const model: unknown = body?.model ?? '';
  return String(model);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A loopback port with nothing listening, for connection-refused tests. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
