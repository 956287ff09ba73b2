import type { ServerResponse } from 'node:http';
import { FakeHttpServer, sendJson, type RecordedRequest } from './fake-http-server';

type Json = Record<string, unknown>;

/**
 * OpenAI's Responses API on loopback, in its wire format: `POST /v1/responses` (plain, and streamed as named
 * server-sent events with `sequence_number`s ending in `response.completed`), `GET` and `DELETE /v1/responses/{id}`
 * for stored responses, `previous_response_id` read from the store. Azure's form of the same API answers too:
 * `POST /openai/responses?api-version=…` and `/openai/responses/{id}?api-version=…`, the key in `api-key`.
 *
 * The model: with function tools and no `function_call_output` in the input it calls the first tool with
 * `toolArguments`; otherwise it answers `content` (after a tool output: `content` followed by that output).
 */
export interface FakeOpenAiResponsesOptions {
  /** Accepted keys (Bearer, or Azure's `api-key`). */
  apiKeys: readonly string[];
  content?: string;
  toolArguments?: string;
  usage?: { input_tokens: number; output_tokens: number; cached_tokens?: number };
  /** Stream events after which the stream breaks off (the socket closes mid-answer). */
  breakStreamAfter?: number;
}

export class FakeOpenAiResponses {
  readonly stored = new Map<string, Json>();
  private counter = 0;

  private constructor(
    readonly server: FakeHttpServer,
    private readonly options: FakeOpenAiResponsesOptions,
  ) {}

  static async start(options: FakeOpenAiResponsesOptions): Promise<FakeOpenAiResponses> {
    let fake: FakeOpenAiResponses | null = null;
    const server = await FakeHttpServer.start((req, res) => (fake as FakeOpenAiResponses).handle(req, res));
    fake = new FakeOpenAiResponses(server, options);
    return fake;
  }

  /** The OpenAI base URL (`…/v1`), as an `api_base` or the openai client's `baseURL`. */
  get url(): string {
    return `${this.server.url}/v1`;
  }

  /** The Azure resource endpoint. */
  get azureEndpoint(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const azure = req.path.startsWith('/openai/');
    if (azure && !req.query.get('api-version')) {
      sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
      return;
    }
    const key = azure ? req.headers['api-key'] : req.headers.authorization?.replace(/^Bearer /, '');
    if (typeof key !== 'string' || !this.options.apiKeys.includes(key)) {
      sendJson(res, 401, { error: { message: `Incorrect API key provided: ${String(key)}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      return;
    }
    const match = /^\/(?:v1|openai)\/responses(?:\/([^/]+))?$/.exec(req.path);
    if (match === null) {
      sendJson(res, 404, { error: { message: `Unknown route ${req.method} ${req.path}`, type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    const id = match[1] === undefined ? null : decodeURIComponent(match[1]);
    if (id === null && req.method === 'POST') this.create(req, res);
    else if (id !== null && req.method === 'GET') this.retrieve(id, res);
    else if (id !== null && req.method === 'DELETE') this.remove(id, res);
    else sendJson(res, 405, { error: { message: 'Method not allowed', type: 'invalid_request_error', param: null, code: null } });
  }

  private create(req: RecordedRequest, res: ServerResponse): void {
    const body = req.json as Json | undefined;
    if (body === undefined || typeof body.model !== 'string' || body.input === undefined) {
      sendJson(res, 400, { error: { message: "Missing required parameter: 'input'.", type: 'invalid_request_error', param: 'input', code: 'missing_required_parameter' } });
      return;
    }
    const previousId = body.previous_response_id;
    if (typeof previousId === 'string' && !this.stored.has(previousId)) {
      sendJson(res, 400, { error: { message: `Previous response with id '${previousId}' not found.`, type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' } });
      return;
    }
    const response = this.answer(body);
    if (body.store !== false) this.stored.set(response.id as string, response);
    if (body.stream === true) this.stream(response, res);
    else sendJson(res, 200, response);
  }

  private answer(body: Json): Json {
    const n = ++this.counter;
    const id = `resp_fake${n}`;
    const input = Array.isArray(body.input) ? (body.input as Json[]) : [];
    const toolOutput = input.find((item) => item.type === 'function_call_output');
    const tools = Array.isArray(body.tools) ? (body.tools as Json[]).filter((tool) => tool.type === 'function') : [];
    const output: Json[] = [];
    if (tools.length > 0 && toolOutput === undefined) {
      output.push({ id: `fc_fake${n}`, type: 'function_call', status: 'completed', arguments: this.options.toolArguments ?? '{}', call_id: `call_fake${n}`, name: tools[0].name });
    } else {
      const text = `${this.options.content ?? 'Hello from the fake Responses API'}${toolOutput === undefined ? '' : ` ${String(toolOutput.output)}`}`;
      output.push({ id: `msg_fake${n}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] });
    }
    const usage = this.options.usage ?? { input_tokens: 11, output_tokens: 5 };
    return {
      id,
      object: 'response',
      created_at: 1_760_000_000 + n,
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      model: `${body.model as string}-2024-08-06`,
      output,
      parallel_tool_calls: true,
      previous_response_id: body.previous_response_id ?? null,
      reasoning: { effort: null, summary: null },
      store: body.store !== false,
      temperature: 1,
      text: { format: { type: 'text' } },
      tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [],
      top_p: 1,
      truncation: 'disabled',
      usage: {
        input_tokens: usage.input_tokens,
        input_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
        output_tokens: usage.output_tokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.input_tokens + usage.output_tokens,
      },
      user: null,
      metadata: body.metadata ?? {},
    };
  }

  /** The event sequence OpenAI sends for `response`, text in three deltas, arguments in two. */
  private stream(response: Json, res: ServerResponse): void {
    const events: Json[] = [];
    const shell = { ...response, status: 'in_progress', output: [], usage: null };
    events.push({ type: 'response.created', response: shell }, { type: 'response.in_progress', response: shell });
    (response.output as Json[]).forEach((item, outputIndex) => {
      if (item.type === 'message') {
        const text = ((item.content as Json[])[0] as { text: string }).text;
        events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } });
        events.push({ type: 'response.content_part.added', item_id: item.id, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
        for (const delta of thirds(text)) events.push({ type: 'response.output_text.delta', item_id: item.id, output_index: outputIndex, content_index: 0, delta, logprobs: [] });
        events.push({ type: 'response.output_text.done', item_id: item.id, output_index: outputIndex, content_index: 0, text, logprobs: [] });
        events.push({ type: 'response.content_part.done', item_id: item.id, output_index: outputIndex, content_index: 0, part: (item.content as Json[])[0] });
      } else {
        const args = item.arguments as string;
        events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } });
        const half = Math.ceil(args.length / 2);
        for (const delta of [args.slice(0, half), args.slice(half)]) events.push({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index: outputIndex, delta });
        events.push({ type: 'response.function_call_arguments.done', item_id: item.id, output_index: outputIndex, name: item.name, arguments: args });
      }
      events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
    });
    events.push({ type: 'response.completed', response });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const limit = this.options.breakStreamAfter ?? events.length;
    events.slice(0, limit).forEach((event, sequence) => res.write(`event: ${event.type as string}\ndata: ${JSON.stringify({ ...event, sequence_number: sequence })}\n\n`));
    // Broken off once the events before are out (a destroy at once could drop them with the headers).
    if (limit < events.length) setTimeout(() => res.destroy(), 50);
    else res.end();
  }

  private retrieve(id: string, res: ServerResponse): void {
    const response = this.stored.get(id);
    if (response === undefined) sendJson(res, 404, notFound(id));
    else sendJson(res, 200, response);
  }

  private remove(id: string, res: ServerResponse): void {
    if (!this.stored.delete(id)) sendJson(res, 404, notFound(id));
    else sendJson(res, 200, { id, object: 'response.deleted', deleted: true });
  }
}

function notFound(id: string): Json {
  return { error: { message: `Response with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null } };
}

function thirds(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
  return pieces;
}
