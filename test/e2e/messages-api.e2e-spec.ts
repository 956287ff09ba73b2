import Anthropic from '@anthropic-ai/sdk';
import { FakeUpstream } from '../support/fake-upstream';
import { COUNT_OVERHEAD, FakeAnthropic } from '../support/fakes/fake-anthropic';
import { FakeLangfuse, type StoredObject } from '../support/fakes/fake-langfuse';
import { langfuseProject } from '../support/logging/fixtures';
import { addCallback, EnvScope, langfuseCallGenerations, langfuseEntry, LogCapture, LOGGING_ENV, newKey, newTeam } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

const ANTHROPIC_KEY = 'sk-ant-api03-gatehouse-e2e-key-0123456789abcdef';
const SONNET = 'claude-sonnet-4-5-20250929';
const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/**
 * Issue 25, `POST /v1/messages` with the official `@anthropic-ai/sdk` (1.x: Bearer key, its own anthropic-version):
 * to an Anthropic deployment the body goes as it came and the answer comes back as Anthropic sent it; to an OpenAI
 * deployment and to the mock provider it is translated both ways. Each call is logged once at a Langfuse
 * destination with usage and cost; errors arrive as the SDK's error classes.
 */
describe('POST /v1/messages (Anthropic Messages API)', () => {
  const project = langfuseProject('messages');
  const env = new EnvScope();
  const gatewayLog = new LogCapture();
  let anthropic: FakeAnthropic;
  let openai: FakeUpstream;
  let openaiTools: FakeUpstream;
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let key: string;
  let client: Anthropic;

  beforeAll(async () => {
    anthropic = await FakeAnthropic.start({ apiKeys: [ANTHROPIC_KEY] });
    openai = await FakeUpstream.start({ content: 'Hello from OpenAI', usage: { prompt_tokens: 9, completion_tokens: 3 } });
    openaiTools = await FakeUpstream.start({ toolCall: { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }, usage: { prompt_tokens: 20, completion_tokens: 7 } });
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
      api_base: ${anthropic.url}
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_base: ${openai.url}
      api_key: sk-upstream
  - model_name: gpt-tools
    litellm_params:
      model: openai/gpt-4o
      api_base: ${openaiTools.url}
      api_key: sk-upstream
  - model_name: offline
    litellm_params:
      model: mock/offline
      mock_response: Hello offline
    model_info:
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
`,
    });
    const teamId = await newTeam(gw, { team_alias: 'messages-team' });
    await addCallback(gw, teamId, langfuseEntry(project, langfuse.url));
    ({ key } = await newKey(gw, { team_id: teamId, key_alias: 'messages-key' }));
    client = new Anthropic({ baseURL: gw.baseUrl, authToken: key, apiKey: null, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([anthropic?.close(), openai?.close(), openaiTools?.close(), langfuse?.close()]);
    env.restore();
  });

  beforeEach(() => anthropic.reset());

  const { onlyGeneration } = langfuseCallGenerations(() => langfuse, project.publicKey);
  const expectLogged = async (callId: string | null, usage: { input: number; output: number }): Promise<StoredObject> => {
    const generation = await onlyGeneration(callId!);
    expect(generation.usageDetails).toMatchObject(usage);
    expect((generation.costDetails as { total: number }).total).toBeGreaterThan(0);
    return generation;
  };

  describe('to an Anthropic deployment: unchanged both ways', () => {
    it('plain: the body as sent (model replaced, betas forwarded), the answer as Anthropic wrote it, logged with usage and cost', async () => {
      const { data, response } = await client.messages
        .create(
          { model: 'claude', max_tokens: 100, system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'Hello' }] },
          { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } },
        )
        .withResponse();
      expect(data).toMatchObject({ type: 'message', role: 'assistant', model: SONNET, stop_reason: 'end_turn', content: [{ type: 'text', text: 'Hello from the fake Anthropic!' }] });
      expect(data.id).toMatch(/^msg_/);
      const [call] = anthropic.calls;
      expect(call.json).toEqual({ model: SONNET, max_tokens: 100, system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'Hello' }] });
      expect(call.request.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
      expect(call.request.headers['x-api-key']).toBe(ANTHROPIC_KEY);
      const generation = await expectLogged(response.headers.get('x-litellm-call-id'), { input: 12, output: 6 });
      expect(JSON.stringify(generation.output)).toContain('Hello from the fake Anthropic!');
    });

    it('x-api-key works as well as Bearer (Claude Code sends x-api-key)', async () => {
      const viaKey = new Anthropic({ baseURL: gw.baseUrl, apiKey: key, maxRetries: 0 });
      const message = await viaKey.messages.create({ model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] });
      expect(message.content[0]).toMatchObject({ type: 'text' });
    });

    it('stream: Anthropic events relayed, read by MessageStream; logged once with usage', async () => {
      anthropic.next({ type: 'text', text: 'One two three' });
      const stream = client.messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'Count' }] });
      const texts: string[] = [];
      stream.on('text', (text) => texts.push(text));
      const final = await stream.finalMessage();
      expect(texts.join('')).toBe('One two three');
      expect(final).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: 'One two three' }] });
      expect(anthropic.calls[0].json.stream).toBe(true);
      const { response } = await stream.withResponse();
      const generation = await expectLogged(response.headers.get('x-litellm-call-id'), { input: 12, output: 6 });
      expect(JSON.stringify(generation.output)).toContain('One two three');
    });

    it('stream with tool use: input_json_delta as Anthropic sent it; the tool result goes back', async () => {
      anthropic.next({ type: 'tool-use', calls: [{ name: 'get_weather', input: { city: 'Paris' } }] });
      const first = await client.messages
        .stream({ model: 'claude', max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] })
        .finalMessage();
      expect(first.stop_reason).toBe('tool_use');
      const toolUse = first.content.find((block) => block.type === 'tool_use')!;
      expect(toolUse).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
      const second = await client.messages.create({
        model: 'claude',
        max_tokens: 100,
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'Sunny' }] },
        ],
      });
      expect(second.content[0]).toMatchObject({ type: 'text' });
      expect(anthropic.calls[1].json.messages).toEqual([
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'Sunny' }] },
      ]);
    });

    it("Anthropic's 429 is the SDK's RateLimitError; a broken stream ends in Anthropic's error event", async () => {
      anthropic.next({ type: 'error', status: 429, errorType: 'rate_limit_error', message: 'slow down' });
      await expect(client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.RateLimitError);
      anthropic.next({ type: 'fault', fault: 'early-end' });
      const stream = client.messages.stream({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      await expect(stream.finalMessage()).rejects.toThrow(/ended before message_stop/);
    });
  });

  describe('to an OpenAI deployment: translated both ways', () => {
    it('plain: a chat request upstream, a Messages answer back, logged with usage and cost', async () => {
      const before = openai.requests.length;
      const { data, response } = await client.messages
        .create({ model: 'gpt', max_tokens: 64, system: 'Be brief.', stop_sequences: ['END'], messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] })
        .withResponse();
      expect(data).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', content: [{ type: 'text', text: 'Hello from OpenAI' }], usage: { input_tokens: 9, output_tokens: 3 } });
      expect(openai.requests[before].body).toMatchObject({
        model: 'gpt-4o',
        max_tokens: 64,
        stop: ['END'],
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello' },
        ],
      });
      await expectLogged(response.headers.get('x-litellm-call-id'), { input: 9, output: 3 });
    });

    it('stream: OpenAI chunks as Anthropic events, read by MessageStream', async () => {
      const stream = client.messages.stream({ model: 'gpt', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });
      const events: string[] = [];
      stream.on('streamEvent', (event) => events.push(event.type));
      const final = await stream.finalMessage();
      expect(final).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: 'Hello from OpenAI' }], usage: { output_tokens: 3 } });
      expect(events[0]).toBe('message_start');
      expect(events.slice(-2)).toEqual(['message_delta', 'message_stop']);
      const { response } = await stream.withResponse();
      await expectLogged(response.headers.get('x-litellm-call-id'), { input: 9, output: 3 });
    });

    it('tools round trip: tool_use streamed with input_json_delta, the tool_result sent back as a tool message', async () => {
      const stream = client.messages.stream({ model: 'gpt-tools', max_tokens: 64, tools: [weatherTool], tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'Weather?' }] });
      const jsonDeltas: string[] = [];
      stream.on('inputJson', (partial) => jsonDeltas.push(partial));
      const first = await stream.finalMessage();
      expect(first.stop_reason).toBe('tool_use');
      expect(first.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }]);
      expect(jsonDeltas.join('')).toBe('{"city":"Paris"}');
      const sent = openaiTools.requests[openaiTools.requests.length - 1].body!;
      expect(sent).toMatchObject({ tool_choice: 'required', tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherTool.input_schema } }] });

      await client.messages.create({
        model: 'gpt-tools',
        max_tokens: 64,
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'Sunny' }, { type: 'text', text: 'Thanks' }] },
        ],
      });
      expect(openaiTools.requests[openaiTools.requests.length - 1].body!.messages).toEqual([
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
        { role: 'user', content: 'Thanks' },
      ]);
    });
  });

  describe('to the mock provider', () => {
    it('plain and stream answer in Messages form, logged with cost', async () => {
      const { data, response } = await client.messages.create({ model: 'offline', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      expect(data.content).toEqual([{ type: 'text', text: 'Hello offline' }]);
      await onlyGeneration(response.headers.get('x-litellm-call-id')!);
      const final = await client.messages.stream({ model: 'offline', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
      expect(final.content).toEqual([{ type: 'text', text: 'Hello offline' }]);
    });
  });

  describe('POST /v1/messages/count_tokens (messages.countTokens)', () => {
    const request = { system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Hello there, how are you?' }] };

    it('an Anthropic deployment counts: the body goes to its count_tokens with the deployment’s model and key', async () => {
      const counted = await client.messages.countTokens({ model: 'claude', ...request });
      // The fake counts words: "Be brief." (2), "user" and "Hello there, how are you?" (6), plus its overhead.
      expect(counted).toEqual({ input_tokens: COUNT_OVERHEAD + 8 });
      const [call] = anthropic.countCalls.slice(-1);
      expect(call.json).toEqual({ model: SONNET, ...request });
      expect(call.request.headers['x-api-key']).toBe(ANTHROPIC_KEY);
      expect(anthropic.calls).toHaveLength(0);
    });

    it('any other deployment gets an estimate from the characters the model reads, without an upstream call', async () => {
      const requestsBefore = openai.requests.length;
      // 38 characters ("Be brief.", "user", the question) / 4, rounded up, + 4 for the one turn.
      expect(await client.messages.countTokens({ model: 'gpt', ...request })).toEqual({ input_tokens: 14 });
      expect(await client.messages.countTokens({ model: 'offline', ...request })).toEqual({ input_tokens: 14 });
      expect(openai.requests.length).toBe(requestsBefore);
    });

    it('the key must be allowed the model; a body without messages or an unknown model is a 400', async () => {
      const { key: claudeOnly } = await newKey(gw, { models: ['claude'] });
      const restricted = new Anthropic({ baseURL: gw.baseUrl, apiKey: claudeOnly, maxRetries: 0 });
      // LiteLLM's 401 key_model_access_denied, in Anthropic's envelope here.
      await expect(restricted.messages.countTokens({ model: 'gpt', ...request })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
      await expect(client.messages.countTokens({ model: 'claude' } as unknown as Anthropic.MessageCountTokensParams)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      await expect(client.messages.countTokens({ model: 'no-such-model', ...request })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      const noKey = await fetch(`${gw.baseUrl}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude', ...request }) });
      expect([noKey.status, await noKey.json()]).toEqual([401, { type: 'error', error: { type: 'authentication_error', message: expect.any(String) as string } }]);
    });
  });

  describe("errors in Anthropic's envelope, as the SDK's classes", () => {
    it('no key → AuthenticationError; a bad key → AuthenticationError', async () => {
      const noKey = await fetch(`${gw.baseUrl}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(noKey.status).toBe(401);
      expect(await noKey.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) as string } });
      const wrong = new Anthropic({ baseURL: gw.baseUrl, apiKey: 'sk-not-a-key', maxRetries: 0 });
      await expect(wrong.messages.create({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    });

    it('two different keys in x-api-key and Authorization → 400 invalid_request_error', async () => {
      const answer = await fetch(`${gw.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-api-key': 'sk-another-key' },
        body: JSON.stringify({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    });

    it("the router's body fields (timeout, num_retries, fallbacks, …) are the gateway's: read as on chat, never sent to Anthropic", async () => {
      const post = (extra: Record<string, unknown>) =>
        fetch(`${gw.baseUrl}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key },
          body: JSON.stringify({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], ...extra }),
        });
      const answered = await post({ timeout: 30, num_retries: 1 });
      expect(answered.status).toBe(200);
      expect(anthropic.calls[0].json).not.toHaveProperty('timeout');
      expect(anthropic.calls[0].json).not.toHaveProperty('num_retries');
      const refused = await post({ timeout: 'soon' });
      expect([refused.status, await refused.json()]).toEqual([400, { type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('`timeout`') as string } }]);
    });

    it('a bad body → BadRequestError; an unknown model → BadRequestError; invalid JSON → 400 in the envelope', async () => {
      await expect(client.messages.create({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      await expect(client.messages.create({ model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      const broken = await fetch(`${gw.baseUrl}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: '{"model":' });
      expect(broken.status).toBe(400);
      expect(await broken.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    });

    it('the chat route keeps OpenAI’s envelope', async () => {
      const answer = await fetch(`${gw.baseUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(answer.status).toBe(401);
      expect(await answer.json()).toMatchObject({ error: { type: 'authentication_error' } });
    });
  });
});
