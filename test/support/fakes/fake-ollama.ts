import type { ServerResponse } from 'node:http';
import { FakeHttpServer, sendJson, type RecordedRequest } from './fake-http-server';

/**
 * An Ollama server on loopback in its native wire format: `POST /api/chat` and `/api/generate` (one JSON object,
 * or NDJSON lines with `application/x-ndjson` when `stream` is true or absent, as Ollama defaults), `/api/embed`,
 * tool calls with `arguments` as an object, `prompt_eval_count` / `eval_count`, `done_reason`, and Ollama's
 * `{"error": "..."}` bodies (404 for an unknown model). A stream can be told to break (a line that is not JSON) or to
 * end with an error line, as a failing runner does.
 */
export interface FakeOllamaOptions {
  /** Models it has pulled; others get Ollama's 404. */
  models: readonly string[];
  content?: string;
  promptEvalCount?: number;
  evalCount?: number;
  /** Ends every answer with `done_reason: length`. */
  truncated?: boolean;
}

export type FakeOllamaStreamFault = { kind: 'malformed-line' } | { kind: 'error-line'; message: string } | { kind: 'cut' };

const CREATED_AT = '2026-12-07T10:00:00.123456Z';

export class FakeOllama {
  /** Faults for the next streamed answers, one each. */
  readonly streamFaults: FakeOllamaStreamFault[] = [];

  private constructor(
    readonly server: FakeHttpServer,
    private readonly options: FakeOllamaOptions,
  ) {}

  static async start(options: FakeOllamaOptions): Promise<FakeOllama> {
    let fake: FakeOllama | null = null;
    const server = await FakeHttpServer.start((req, res) => (fake as FakeOllama).handle(req, res));
    fake = new FakeOllama(server, options);
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  get last(): RecordedRequest {
    return this.server.requests[this.server.requests.length - 1];
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private get content(): string {
    return this.options.content ?? 'Hello from the fake Ollama!';
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const body = req.json as Record<string, unknown> | undefined;
    if (req.method === 'GET' && req.path === '/api/version') {
      sendJson(res, 200, { version: '0.12.6' });
      return;
    }
    if (req.method !== 'POST' || !['/api/chat', '/api/generate', '/api/embed'].includes(req.path)) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('404 page not found');
      return;
    }
    if (body === undefined || typeof body !== 'object') {
      sendJson(res, 400, { error: 'invalid request body' });
      return;
    }
    const model = body.model;
    if (typeof model !== 'string' || !this.options.models.includes(model)) {
      sendJson(res, 404, { error: `model "${String(model)}" not found, try pulling it first` });
      return;
    }
    if (req.path === '/api/embed') {
      this.embed(res, body, model);
      return;
    }
    const chat = req.path === '/api/chat';
    if (chat && !Array.isArray(body.messages)) {
      sendJson(res, 400, { error: 'messages must be a list' });
      return;
    }
    if (!chat && typeof body.prompt !== 'string') {
      sendJson(res, 400, { error: 'prompt must be a string' });
      return;
    }
    const toolCall = chat ? this.toolCallFor(body) : null;
    // Ollama streams unless told not to.
    if (body.stream === false) {
      sendJson(res, 200, this.final(model, chat, toolCall, this.answerText(body)));
    } else {
      this.stream(res, model, chat, toolCall, this.answerText(body));
    }
  }

  private answerText(body: Record<string, unknown>): string {
    const messages = body.messages as Array<{ role?: string; content?: string }> | undefined;
    const last = messages?.[messages.length - 1];
    return last?.role === 'tool' ? `The tool said: ${last.content ?? ''}` : this.content;
  }

  private toolCallFor(body: Record<string, unknown>): { name: string; arguments: Record<string, unknown> } | null {
    const tools = body.tools as Array<{ function?: { name?: string } }> | undefined;
    const messages = body.messages as Array<{ role?: string }>;
    if (!Array.isArray(tools) || tools.length === 0 || messages[messages.length - 1]?.role === 'tool') return null;
    return { name: tools[0].function?.name ?? 'tool', arguments: { city: 'Paris', days: 2 } };
  }

  private counts(): Record<string, unknown> {
    return {
      total_duration: 5191566416,
      load_duration: 2154458,
      prompt_eval_count: this.options.promptEvalCount ?? 26,
      prompt_eval_duration: 383809000,
      eval_count: this.options.evalCount ?? 9,
      eval_duration: 4799921000,
    };
  }

  private final(model: string, chat: boolean, toolCall: ReturnType<FakeOllama['toolCallFor']>, text: string): Record<string, unknown> {
    const doneReason = this.options.truncated ? 'length' : 'stop';
    const head = { model, created_at: CREATED_AT };
    if (chat) {
      const message: Record<string, unknown> = { role: 'assistant', content: toolCall ? '' : text };
      if (toolCall) message.tool_calls = [{ function: toolCall }];
      return { ...head, message, done: true, done_reason: doneReason, ...this.counts() };
    }
    return { ...head, response: text, done: true, done_reason: doneReason, context: [1, 2, 3], ...this.counts() };
  }

  private stream(res: ServerResponse, model: string, chat: boolean, toolCall: ReturnType<FakeOllama['toolCallFor']>, text: string): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const fault = this.streamFaults.shift();
    const head = { model, created_at: CREATED_AT };
    const line = (value: unknown): void => {
      res.write(`${JSON.stringify(value)}\n`);
    };
    const words = toolCall ? [] : text.split(/(?<= )/);
    words.forEach((word, i) => {
      line(chat ? { ...head, message: { role: 'assistant', content: word }, done: false } : { ...head, response: word, done: false });
      if (i === 0 && fault?.kind === 'malformed-line') res.write('{"model":"oops", this is not json\n');
      if (i === 0 && fault?.kind === 'error-line') line({ error: fault.message });
    });
    if (fault?.kind === 'cut') {
      res.end();
      return;
    }
    if (toolCall) line({ ...head, message: { role: 'assistant', content: '', tool_calls: [{ function: toolCall }] }, done: false });
    const last = this.final(model, chat, null, '');
    res.end(`${JSON.stringify(last)}\n`);
  }

  private embed(res: ServerResponse, body: Record<string, unknown>, model: string): void {
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(inputs)) {
      sendJson(res, 400, { error: 'invalid input type' });
      return;
    }
    sendJson(res, 200, {
      model,
      embeddings: inputs.map((_, i) => [0.5 * (i + 1), -0.25, 0.125, 0]),
      total_duration: 14143917,
      load_duration: 1019500,
      prompt_eval_count: 3 * inputs.length,
    });
  }
}
