import type { ServerResponse } from 'node:http';
import { FakeHttpServer, sendJson, type RecordedRequest } from './fake-http-server';

/**
 * Azure OpenAI on loopback, in its own wire format: `/openai/deployments/{deployment}/chat/completions` and
 * `/embeddings` with a required `api-version` query, the key in `api-key` or an Entra ID token in
 * `Authorization: Bearer`, answers carrying `prompt_filter_results` and per-choice `content_filter_results`, streams
 * whose first chunk has no choices (only the prompt filter results), Azure's error bodies (`{"error":{"code","message"}}`,
 * the content-filter 400 with its `innererror`), and the 400 older API versions give for `stream_options`.
 */
export interface FakeAzureOptions {
  /** Deployment name → the model it serves (as Azure reports it in answers). */
  deployments: Readonly<Record<string, string>>;
  /** Accepted `api-key` values. */
  apiKeys?: readonly string[];
  /** Accepted bearer tokens (Entra ID). */
  bearerTokens?: readonly string[];
  /** The assistant's text. */
  content?: string;
  /** A prompt containing this word is refused by the content filter (400, `code: content_filter`). */
  blockedWord?: string;
  /** A prompt containing this word gets an answer cut by the completion filter (`finish_reason: content_filter`). */
  filteredAnswerWord?: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

const SAFE = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};
const PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: { ...SAFE, jailbreak: { filtered: false, detected: false } } }];

export const AZURE_UNAUTHORIZED = {
  error: {
    code: '401',
    message:
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  },
};

export function azureRateLimited(apiVersion: string, seconds: number): unknown {
  return {
    error: {
      code: '429',
      message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    },
  };
}

export const AZURE_CONTENT_FILTERED = {
  error: {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
    type: null,
    param: 'prompt',
    code: 'content_filter',
    status: 400,
    innererror: {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_result: { ...SAFE, jailbreak: { filtered: false, detected: false }, violence: { filtered: true, severity: 'medium' } },
    },
  },
};

export class FakeAzureOpenAi {
  private constructor(
    readonly server: FakeHttpServer,
    private readonly options: FakeAzureOptions,
  ) {}

  static async start(options: FakeAzureOptions): Promise<FakeAzureOpenAi> {
    let fake: FakeAzureOpenAi | null = null;
    const server = await FakeHttpServer.start((req, res) => (fake as FakeAzureOpenAi).handle(req, res));
    fake = new FakeAzureOpenAi(server, options);
    return fake;
  }

  /** `https://{resource}.openai.azure.com` stands for this. */
  get endpoint(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private get content(): string {
    return this.options.content ?? 'Hello from the fake Azure OpenAI!';
  }

  private get usage(): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
    const usage = this.options.usage ?? { prompt_tokens: 12, completion_tokens: 8 };
    return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const route = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(req.path);
    const apiVersion = req.query.get('api-version');
    if (req.method !== 'POST' || route === null || apiVersion === null) {
      sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
      return;
    }
    if (!this.authorized(req)) {
      sendJson(res, 401, AZURE_UNAUTHORIZED);
      return;
    }
    const deployment = decodeURIComponent(route[1]);
    const model = this.options.deployments[deployment];
    if (model === undefined) {
      sendJson(res, 404, {
        error: {
          code: 'DeploymentNotFound',
          message: 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
        },
      });
      return;
    }
    const body = (req.json ?? {}) as Record<string, unknown>;
    if (route[2] === 'embeddings') {
      this.embeddings(res, body, model);
      return;
    }
    if (body.stream_options !== undefined && apiVersion.slice(0, 10) < '2024-09-01' && /^\d{4}-/.test(apiVersion)) {
      sendJson(res, 400, { error: { message: 'Unrecognized request argument supplied: stream_options', type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    const prompt = JSON.stringify(body.messages ?? '');
    if (this.options.blockedWord !== undefined && prompt.includes(this.options.blockedWord)) {
      sendJson(res, 400, AZURE_CONTENT_FILTERED);
      return;
    }
    const filtered = this.options.filteredAnswerWord !== undefined && prompt.includes(this.options.filteredAnswerWord);
    const toolCall = this.toolCallFor(body);
    if (body.stream === true) {
      this.stream(res, body, model, toolCall, filtered);
    } else {
      sendJson(res, 200, this.completion(model, toolCall, filtered));
    }
  }

  private authorized(req: RecordedRequest): boolean {
    const key = req.headers['api-key'];
    if (typeof key === 'string') return (this.options.apiKeys ?? []).includes(key);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return bearer !== undefined && (this.options.bearerTokens ?? []).includes(bearer);
  }

  /** A call with tools whose last message is the user's gets a call of the first tool; after the tool's answer, text. */
  private toolCallFor(body: Record<string, unknown>): { id: string; name: string; arguments: string } | null {
    const tools = body.tools as Array<{ function?: { name?: string } }> | undefined;
    const messages = body.messages as Array<{ role?: string }> | undefined;
    if (!Array.isArray(tools) || tools.length === 0 || messages?.[messages.length - 1]?.role === 'tool') return null;
    return { id: 'call_azure_1', name: tools[0].function?.name ?? 'tool', arguments: '{"city":"Paris"}' };
  }

  private answerText(body: Record<string, unknown>): string {
    const messages = body.messages as Array<{ role?: string; content?: unknown }> | undefined;
    const last = messages?.[messages.length - 1];
    return last?.role === 'tool' ? `The tool said: ${String(last.content)}` : this.content;
  }

  private completion(model: string, toolCall: ReturnType<FakeAzureOpenAi['toolCallFor']>, filtered: boolean): unknown {
    const message = toolCall
      ? { role: 'assistant', content: null, tool_calls: [{ id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: toolCall.arguments } }] }
      : { role: 'assistant', content: filtered ? null : this.content };
    return {
      id: 'chatcmpl-AZURE0001',
      object: 'chat.completion',
      created: 1733400000,
      model,
      system_fingerprint: 'fp_azure',
      prompt_filter_results: PROMPT_FILTER_RESULTS,
      choices: [
        {
          index: 0,
          message,
          logprobs: null,
          finish_reason: filtered ? 'content_filter' : toolCall ? 'tool_calls' : 'stop',
          content_filter_results: filtered ? { ...SAFE, violence: { filtered: true, severity: 'high' } } : SAFE,
        },
      ],
      usage: this.usage,
    };
  }

  private stream(res: ServerResponse, body: Record<string, unknown>, model: string, toolCall: ReturnType<FakeAzureOpenAi['toolCallFor']>, filtered: boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const send = (data: unknown): void => {
      res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    send({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: PROMPT_FILTER_RESULTS });
    const base = { id: 'chatcmpl-AZURE0002', object: 'chat.completion.chunk', created: 1733400001, model, system_fingerprint: 'fp_azure' };
    const chunk = (delta: Record<string, unknown>, finish: string | null, filters: unknown = SAFE): unknown => ({
      ...base,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null, content_filter_results: filters }],
      usage: null,
    });
    send(chunk({ role: 'assistant', content: '' }, null, {}));
    let finish = 'stop';
    if (toolCall) {
      send(chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: '' } }] }, null, {}));
      const half = Math.ceil(toolCall.arguments.length / 2);
      send(chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.arguments.slice(0, half) } }] }, null, {}));
      send(chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.arguments.slice(half) } }] }, null, {}));
      finish = 'tool_calls';
    } else {
      const words = this.answerText(body).split(/(?<= )/);
      const shown = filtered ? words.slice(0, 1) : words;
      for (const word of shown) send(chunk({ content: word }, null));
      if (filtered) finish = 'content_filter';
    }
    send(chunk({}, finish, filtered ? { ...SAFE, violence: { filtered: true, severity: 'high' } } : {}));
    const options = body.stream_options as { include_usage?: unknown } | undefined;
    if (options?.include_usage === true) send({ ...base, choices: [], usage: this.usage });
    res.end('data: [DONE]\n\n');
  }

  private embeddings(res: ServerResponse, body: Record<string, unknown>, model: string): void {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    sendJson(res, 200, {
      object: 'list',
      data: inputs.map((_, index) => {
        const vector = [0.25 * (index + 1), -0.5, 0.125];
        const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
        return { object: 'embedding', index, embedding };
      }),
      model,
      usage: { prompt_tokens: 4 * inputs.length, total_tokens: 4 * inputs.length },
    });
  }
}

/**
 * Microsoft Entra ID's v2.0 token endpoint (`/{tenant}/oauth2/v2.0/token`): the client-credentials and password
 * grants as form posts, Entra's token answer (`token_type`, `expires_in`, `access_token`) and its error bodies
 * (`{"error":"invalid_client","error_description":"AADSTS7000215: ..."}`).
 */
export class FakeEntraId {
  private issued = 0;

  private constructor(
    readonly server: FakeHttpServer,
    private readonly app: { tenantId: string; clientId: string; clientSecret: string; username?: string; password?: string; scope: string },
    /** Tokens handed out, in order; give them to FakeAzureOpenAi as accepted bearer tokens. */
    readonly tokens: string[],
  ) {}

  static async start(app: FakeEntraId['app'], tokens: string[]): Promise<FakeEntraId> {
    let fake: FakeEntraId | null = null;
    const server = await FakeHttpServer.start((req, res) => (fake as FakeEntraId).handle(req, res));
    fake = new FakeEntraId(server, app, tokens);
    return fake;
  }

  get authorityHost(): string {
    return this.server.url;
  }

  /** Token requests received. */
  get tokenRequests(): RecordedRequest[] {
    return this.server.requests.filter((req) => req.path.endsWith('/oauth2/v2.0/token'));
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const route = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (req.method !== 'POST' || route === null) {
      sendJson(res, 404, { error: 'invalid_request', error_description: 'AADSTS90002: Tenant not found.' });
      return;
    }
    const form = new URLSearchParams(req.text);
    const grant = form.get('grant_type');
    const tenantOk = route[1] === this.app.tenantId || (grant === 'password' && route[1] === 'organizations');
    if (!tenantOk) {
      sendJson(res, 400, { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${route[1]}' not found.`, error_codes: [90002] });
      return;
    }
    if (form.get('scope') !== this.app.scope) {
      sendJson(res, 400, { error: 'invalid_scope', error_description: 'AADSTS70011: The provided value for the input parameter \'scope\' is not valid.', error_codes: [70011] });
      return;
    }
    const clientOk = form.get('client_id') === this.app.clientId;
    const credentialOk =
      grant === 'client_credentials'
        ? form.get('client_secret') === this.app.clientSecret
        : grant === 'password' && this.app.username !== undefined && form.get('username') === this.app.username && form.get('password') === this.app.password;
    if (!clientOk || !credentialOk) {
      sendJson(res, 401, {
        error: 'invalid_client',
        error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${form.get('client_id') ?? ''}'.`,
        error_codes: [7000215],
        timestamp: '2026-12-07 10:00:00Z',
        trace_id: '00000000-0000-0000-0000-000000000001',
        correlation_id: '00000000-0000-0000-0000-000000000002',
      });
      return;
    }
    const token = `eyJ0eXAiOiJKV1Qi.fake-entra-token-${++this.issued}`;
    this.tokens.push(token);
    sendJson(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
  }
}
