import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { listPrice } from '../../src/completions/prices/price-list';
import { FakeAnthropic, sseEvent } from '../support/fakes/fake-anthropic';
import { FakeLangfuse, type StoredObject } from '../support/fakes/fake-langfuse';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject } from '../support/logging/fixtures';
import { addCallback, EnvScope, expectCostOf, langfuseCallGenerations, langfuseEntry, LogCapture, LOGGING_ENV, newKey, newTeam, rawChatStream } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';
import { apiErrorOf } from '../support/openai-client-errors';

const ANTHROPIC_KEY = 'sk-ant-api03-gatehouse-e2e-key-0123456789abcdef';
const WRONG_KEY = 'sk-ant-api03-not-known-to-anthropic-9876543210';
const SONNET = 'claude-sonnet-4-5-20250929';
const weather: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};



/**
 * Issue 24, `anthropic/<model>` through the gateway with the official `openai` client, against the Anthropic fake
 * (proven with @anthropic-ai/sdk in fake-anthropic.e2e-spec.ts): the OpenAI request is a Messages request Anthropic
 * accepts (x-api-key, anthropic-version, top-level system, max_tokens, tool_use / tool_result pairs), answers and SSE
 * streams come back in OpenAI's shapes, Anthropic's errors as OpenAI errors, and each call is logged once at a
 * Langfuse destination with provider `anthropic`, the model, usage, the whole answer and its cost at list price.
 */
describe('anthropic/ provider through the gateway', () => {
  const project = langfuseProject('anthropic');
  const env = new EnvScope();
  const gatewayLog = new LogCapture();
  let fake: FakeAnthropic;
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await FakeAnthropic.start({ apiKeys: [ANTHROPIC_KEY] });
    langfuse = await FakeLangfuse.start({ keys: [project] });
    env.set({ ANTHROPIC_API_KEY: ANTHROPIC_KEY });
    gw = await createTestApp({
      env: LOGGING_ENV,
      logDestination: gatewayLog,
      configYaml: `
model_list:
  - model_name: claude
    litellm_params:
      model: anthropic/${SONNET}
      api_base: ${fake.url}
  - model_name: claude-v1-base
    litellm_params:
      model: anthropic/claude-3-5-haiku-latest
      api_base: ${fake.url}/proxy/v1
      api_key: os.environ/ANTHROPIC_API_KEY
      max_tokens: 300
  - model_name: claude-retry
    litellm_params:
      model: anthropic/${SONNET}
      api_base: ${fake.url}
      max_retries: 1
  - model_name: claude-wrong-key
    litellm_params:
      model: anthropic/${SONNET}
      api_base: ${fake.url}
      api_key: ${WRONG_KEY}
`,
    });
    const teamId = await newTeam(gw, { team_alias: 'anthropic-team' });
    await addCallback(gw, teamId, langfuseEntry(project, langfuse.url));
    const { key } = await newKey(gw, { team_id: teamId, key_alias: 'anthropic-key' });
    client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([fake?.close(), langfuse?.close()]);
    env.restore();
  });

  beforeEach(() => fake.reset());

  const { onlyGeneration } = langfuseCallGenerations(() => langfuse, project.publicKey);
  const expectCost = (generation: StoredObject, usage: { prompt_tokens: number; completion_tokens: number }): void => {
    const price = listPrice('anthropic', SONNET)!;
    expectCostOf(generation, usage, { input: price.inputCostPerToken, output: price.outputCostPerToken });
  };

  it('plain: a Messages request Anthropic accepts, an OpenAI chat.completion back, logged with provider, model, usage and cost', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: 'claude',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Hi!' },
          { role: 'user', content: 'Again' },
          { role: 'user', content: 'please' },
        ],
        temperature: 0.3,
        top_p: 0.9,
        stop: ['END', ' '],
        user: 'user-1234',
      })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hello from the fake Anthropic!' }, finish_reason: 'stop' });
    expect(data.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });
    expect(data.id).toMatch(/^msg_/);
    expect(data.model).toBe(SONNET);
    const [call] = fake.calls;
    expect(call.request.path).toBe('/v1/messages');
    expect(call.auth).toBe('x-api-key');
    expect(call.request.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(call.request.headers['anthropic-version']).toBe('2023-06-01');
    expect(call.request.headers.authorization).toBeUndefined();
    expect(call.json).toEqual({
      model: SONNET,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Hi!' }] },
        { role: 'user', content: [{ type: 'text', text: 'Again' }, { type: 'text', text: 'please' }] },
      ],
      max_tokens: 4096,
      temperature: 0.3,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-1234' },
    });

    const generation = await onlyGeneration(response.headers.get('x-litellm-call-id')!);
    expect(generation.model).toBe(SONNET);
    expect(generation.metadata).toMatchObject({ custom_llm_provider: 'anthropic', api_base: fake.url, status: 'success' });
    expect(JSON.stringify(generation.output)).toContain('Hello from the fake Anthropic!');
    expectCost(generation, data.usage!);
  });

  it('a base ending in /v1 and request defaults from litellm_params: the path is not doubled, max_tokens comes from the config', async () => {
    await client.chat.completions.create({ model: 'claude-v1-base', messages: [{ role: 'user', content: 'hi' }] });
    expect(fake.calls[0].request.path).toBe('/proxy/v1/messages');
    expect(fake.calls[0].json.max_tokens).toBe(300);
  });

  it('streamed: every piece in order, thinking as reasoning_content, the usage chunk (prompt cache counted); the log has the whole answer and its cost', async () => {
    fake.next({ type: 'text', pieces: ['The ', 'whole ', 'streamed ', 'answer.'], thinking: 'Let me think.', usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 5 } });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: 'Stream it' }], stream: true, stream_options: { include_usage: true }, reasoning_effort: 'low' })
      .withResponse();
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe('The whole streamed answer.');
    expect(chunks.map((chunk) => (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('')).toBe('Let me think.');
    expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason).map((chunk) => chunk.choices[0].finish_reason)).toEqual(['stop']);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 45, completion_tokens: 20, total_tokens: 65, prompt_tokens_details: { cached_tokens: 30 } });
    expect(chunks.every((chunk) => chunk.id === chunks[0].id && chunk.model === SONNET)).toBe(true);
    expect(fake.calls[0].json).toMatchObject({ stream: true, thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 4096 });
    expect(fake.calls[0].json).not.toHaveProperty('stream_options');

    const generation = await onlyGeneration(response.headers.get('x-litellm-call-id')!);
    expect(JSON.stringify(generation.output)).toContain('The whole streamed answer.');
    expect(generation.metadata).toMatchObject({ custom_llm_provider: 'anthropic', stream: true });
    expectCost(generation, last.usage!);
  });

  it.each([false, true])('a tool-call round trip (stream: %s): tool_calls out, the tool results back in as tool_result blocks of one user turn', async (streamed) => {
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris and Oslo?' }];
    fake.next({ type: 'tool-use', text: 'Let me check.', calls: [{ name: 'get_weather', input: { city: 'Paris' } }, { name: 'get_weather', input: { city: 'Oslo' } }] });
    let toolCalls: Array<{ id: string; name: string; arguments: string }>;
    if (streamed) {
      const stream = await client.chat.completions.create({ model: 'claude', messages, tools: [weather], parallel_tool_calls: false, stream: true });
      const calls = new Map<number, { id: string; name: string; arguments: string }>();
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
          const current = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
          calls.set(delta.index, { id: delta.id ?? current.id, name: current.name + (delta.function?.name ?? ''), arguments: current.arguments + (delta.function?.arguments ?? '') });
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect([...calls.keys()]).toEqual([0, 1]);
      expect(finish).toBe('tool_calls');
      toolCalls = [...calls.values()];
      expect(fake.calls[0].json.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    } else {
      const first = await client.chat.completions.create({ model: 'claude', messages, tools: [weather], tool_choice: 'required' });
      expect(first.choices[0].finish_reason).toBe('tool_calls');
      expect(first.choices[0].message.content).toBe('Let me check.');
      toolCalls = (first.choices[0].message.tool_calls as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall[]).map((call) => ({ id: call.id, ...call.function }));
      expect(fake.calls[0].json.tool_choice).toEqual({ type: 'any' });
    }
    expect(fake.calls[0].json.tools).toEqual([{ name: 'get_weather', description: 'The weather in a city', input_schema: weather.function.parameters }]);
    expect(toolCalls.map((call) => [call.name, JSON.parse(call.arguments) as unknown])).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_weather', { city: 'Oslo' }],
    ]);
    expect(toolCalls.every((call) => call.id.startsWith('toolu_'))).toBe(true);

    messages.push(
      { role: 'assistant', content: null, tool_calls: toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } })) },
      { role: 'tool', tool_call_id: toolCalls[0].id, content: '18°C' },
      { role: 'tool', tool_call_id: toolCalls[1].id, content: '9°C' },
    );
    fake.next({ type: 'text', text: 'Paris 18°C, Oslo 9°C.' });
    const second = await client.chat.completions.create({ model: 'claude', messages, tools: [weather], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(second.choices[0].message.content).toBe('Paris 18°C, Oslo 9°C.');
    expect(fake.calls[1].json.tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
    expect(fake.calls[1].json.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Oslo?' }] },
      { role: 'assistant', content: toolCalls.map((call) => ({ type: 'tool_use', id: call.id, name: 'get_weather', input: JSON.parse(call.arguments) as unknown })) },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: toolCalls[0].id, content: '18°C' },
          { type: 'tool_result', tool_use_id: toolCalls[1].id, content: '9°C' },
        ],
      },
    ]);
  });

  it('images: a data URL as a base64 source, an http(s) URL as a url source for Anthropic to fetch', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    await client.chat.completions.create({
      model: 'claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(fake.calls[0].json.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it.each([
    [429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', 429, 'rate_limited'],
    [400, 'invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum', 400, 'validation_failed'],
    [404, 'not_found_error', 'model: claude-nonexistent', 404, 'upstream_error'],
    [500, 'api_error', 'Internal server error', 500, 'upstream_error'],
    [529, 'overloaded_error', 'Overloaded', 503, 'upstream_error'],
  ])('Anthropic %i %s ("%s") is an OpenAI error with status %i (%s) carrying "type: message"', async (status, errorType, message, expected, code) => {
    fake.next({ type: 'error', status, errorType, message, retryAfter: status === 429 ? '7' : undefined });
    const error = await apiErrorOf(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }));
    expect([error.status, error.code]).toEqual([expected, code]);
    expect(error.message).toContain(`${errorType}: ${message}`);
    if (status === 429) {
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error.headers?.get('retry-after')).toBe('7');
    }
  });

  it('overloaded (529) is retried as a 5xx: once more on the deployment\'s max_retries, then the answer; twice over, a 503 logged once', async () => {
    fake.next({ type: 'error', status: 529, errorType: 'overloaded_error', message: 'Overloaded' });
    const answer = await client.chat.completions.create({ model: 'claude-retry', messages: [{ role: 'user', content: 'try again' }] });
    expect(answer.choices[0].message.content).toBe('Hello from the fake Anthropic!');
    expect(fake.calls).toHaveLength(2);

    fake.reset();
    fake.next({ type: 'error', status: 529, errorType: 'overloaded_error', message: 'Overloaded' }, { type: 'error', status: 529, errorType: 'overloaded_error', message: 'Overloaded' });
    const error = await apiErrorOf(client.chat.completions.create({ model: 'claude-retry', messages: [{ role: 'user', content: 'try again' }] }));
    expect(fake.calls).toHaveLength(2);
    expect([error.status, error.code]).toEqual([503, 'upstream_error']);
    expect(error.message).toBe('503 anthropic upstream error (HTTP 503): overloaded_error: Overloaded');
    const generation = await onlyGeneration(error.headers!.get('x-litellm-call-id')!);
    expect(generation.level).toBe('ERROR');
  });

  it('a key Anthropic does not know (401) is the deployment\'s credentials refused: 502, the key in no text', async () => {
    const error = await apiErrorOf(client.chat.completions.create({ model: 'claude-wrong-key', messages: [{ role: 'user', content: 'hi' }] }));
    expect([error.status, error.code]).toEqual([502, 'upstream_error']);
    expect(error.message).toContain('authentication_error: invalid x-api-key');
    expect(error.message).toContain("the deployment's upstream credentials were rejected");
    expect(error.message).not.toContain(WRONG_KEY);
    expect(fake.requests[0].headers['x-api-key']).toBe(WRONG_KEY);
  });

  it('a request Anthropic cannot be given is the caller\'s 400 naming the field; Anthropic is not called', async () => {
    const n = await apiErrorOf(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], n: 2 }));
    expect([n.status, n.code, n.param]).toEqual([400, 'validation_failed', 'n']);
    const args = await apiErrorOf(
      client.chat.completions.create({
        model: 'claude',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{not json' } }] },
        ],
      }),
    );
    expect([args.status, args.code, args.param]).toEqual([400, 'validation_failed', 'messages[1].tool_calls[0].function.arguments']);
    const embeddings = await apiErrorOf(client.embeddings.create({ model: 'claude', input: 'hi' }));
    expect([embeddings.status, embeddings.code]).toEqual([400, 'validation_failed']);
    expect(embeddings.message).toContain("Model 'claude' (anthropic) does not offer embeddings");
    expect(fake.requests).toHaveLength(0);
  });

  describe('answers that break Anthropic\'s format', () => {
    const streamRaw = (): Promise<{ events: string[]; callId: string }> => rawChatStream(gw.baseUrl, client.apiKey ?? '', 'claude');

    it.each([
      ['invalid JSON', 'invalid-json', 'upstream_protocol_error', 'The anthropic upstream answered in an unexpected format: a stream event is not a JSON object'],
      ['an unknown event', 'unknown-event', 'upstream_protocol_error', 'The anthropic upstream answered in an unexpected format: an unknown event "content_block_surprise"'],
      ['an error event', 'error-event', 'upstream_error', 'anthropic upstream error in the stream: overloaded_error: Overloaded'],
      ['an end before message_stop', 'early-end', 'upstream_protocol_error', 'The anthropic upstream answered in an unexpected format: the stream ended before message_stop'],
    ] as const)('streamed, %s: the text before it, one error event, no [DONE], one failure log', async (_label, fault, code, message) => {
      fake.next({ type: 'fault', fault });
      const { events, callId } = await streamRaw();
      expect((JSON.parse(events[1]) as { choices: Array<{ delta: { content: string } }> }).choices[0].delta.content).toBe('Partial');
      expect(JSON.parse(events[events.length - 1])).toEqual({ error: { message, type: 'api_error', param: null, code } });
      expect(events.join('')).not.toContain('never shown');
      expect(events).not.toContain('[DONE]');
      const generation = await onlyGeneration(callId);
      expect(generation.level).toBe('ERROR');
      expect(generation.statusMessage).toBe(message);
    });

    it('not streamed, a body cut off mid-JSON: a 502 upstream_protocol_error and one failure log', async () => {
      fake.next({ type: 'fault', fault: 'invalid-json' });
      const error = await apiErrorOf(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }));
      expect([error.status, error.code]).toEqual([502, 'upstream_protocol_error']);
      expect(error.message).toBe('502 The anthropic upstream answered in an unexpected format: the answer is not a JSON object');
      const generation = await onlyGeneration(error.headers!.get('x-litellm-call-id')!);
      expect(generation.level).toBe('ERROR');
    });

    it('a message_start without its message: a protocol error before any chunk', async () => {
      fake.setFailure({ status: 200, body: sseEvent('message_start', {}), headers: { 'content-type': 'text/event-stream' }, times: 1 });
      const { events } = await streamRaw();
      expect(JSON.parse(events[events.length - 1])).toMatchObject({ error: { code: 'upstream_protocol_error', message: 'The anthropic upstream answered in an unexpected format: a message_start without its message' } });
    });
  });

  describe('the real process (npm start)', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-anthropic-'));
    let gateway: GatewayProcess | null = null;
    afterAll(() => {
      if (gateway !== null && gateway.child.exitCode === null) gateway.kill('SIGKILL');
      rmSync(workDir, { recursive: true, force: true });
    });

    it('without api_key or ANTHROPIC_API_KEY, start-up stops naming the deployment, the setting and the variable', async () => {
      const path = join(workDir, 'no-key.yaml');
      writeFileSync(path, `model_list:\n  - model_name: claude\n    litellm_params:\n      model: anthropic/${SONNET}\n`);
      gateway = await spawnGateway({ env: { MASTER_KEY: 'sk-anthropic-process-0123456789-abcdefghijkl', CONFIG_FILE: path, DATA_DIR: join(workDir, 'data') } });
      expect(await gateway.waitForExit()).toBe(1);
      expect(gateway.output()).toContain('model_list[0] (claude): the Anthropic API key is missing: set litellm_params.api_key or the environment variable ANTHROPIC_API_KEY');
    });
  });

  describe('after every call above', () => {
    it('the Anthropic key reached no log destination and no line of the gateway\'s own log, successes and failures alike', () => {
      const received = langfuse.requests.map((req) => req.text + JSON.stringify(req.headers)).join('\n');
      expect(received).toContain('"level":"ERROR"');
      expect(gatewayLog.lines.length).toBeGreaterThan(0);
      for (const value of [ANTHROPIC_KEY, WRONG_KEY]) {
        expect(received).not.toContain(value);
        expect(gatewayLog.text()).not.toContain(value);
      }
    });
  });
});
