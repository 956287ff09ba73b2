import OpenAI, { AzureOpenAI, BadRequestError, NotFoundError } from 'openai';
import { LoggingService } from '../../src/logging/request/logging.service';
import { FakeUpstream } from '../support/fake-upstream';
import { FakeAnthropic } from '../support/fakes/fake-anthropic';
import { FakeLangfuse, type StoredObject } from '../support/fakes/fake-langfuse';
import { FakeOpenAiResponses } from '../support/fakes/fake-openai-responses';
import { langfuseProject } from '../support/logging/fixtures';
import { addCallback, langfuseCallGenerations, langfuseEntry, LogCapture, LOGGING_ENV, newKey, newTeam } from '../support/logging/harness';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp, type TestAppOptions } from '../support/test-app';

const OPENAI_KEY = 'sk-upstream-responses-e2e-0123456789abcdef';
const AZURE_KEY = 'azure-responses-e2e-key-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-api03-responses-e2e-key-0123456789abcdef';
const WRONG_KEY = 'sk-wrong-upstream-responses-key-0123456789';
const weather: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

type FunctionCall = OpenAI.Responses.ResponseFunctionToolCall;

function functionCallOf(response: { output: ReadonlyArray<{ type: string }> }): FunctionCall {
  const call = response.output.find((item) => item.type === 'function_call');
  if (call === undefined) throw new Error('the response called no function');
  const { id, type, call_id, name, arguments: args, status } = call as FunctionCall;
  return { id, type, call_id, name, arguments: args, status };
}

/** A streamed call's events read as they come, with the gateway's call id (the SDK's `.stream()` hides the headers). */
async function streamedEvents(client: OpenAI, body: OpenAI.Responses.ResponseCreateParamsStreaming): Promise<{ events: OpenAI.Responses.ResponseStreamEvent[]; callId: string | null }> {
  const { data, response } = await client.responses.create(body).withResponse();
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const event of data) events.push(event);
  return { events, callId: response.headers.get('x-litellm-call-id') };
}

/**
 * Issue 25, `POST /v1/responses` with the official `openai` client: to an OpenAI or Azure deployment the body goes
 * as it came and the answer (plain or streamed) comes back as the upstream sent it, and the response it keeps can be
 * retrieved and deleted through the gateway by the key that made it; to a chat deployment (an OpenAI-compatible
 * host, the mock provider) it is translated both ways. Each call is logged once at a Langfuse destination with usage
 * and cost.
 */
describe('POST /v1/responses (OpenAI Responses API)', () => {
  const project = langfuseProject('responses');
  const gatewayLog = new LogCapture();
  let upstream: FakeOpenAiResponses;
  let broken: FakeOpenAiResponses;
  let anthropic: FakeAnthropic;
  let chat: FakeUpstream;
  let chatTools: FakeUpstream;
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let appOptions: TestAppOptions;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await FakeOpenAiResponses.start({ apiKeys: [OPENAI_KEY, AZURE_KEY], content: 'Hello from Responses', toolArguments: '{"city":"Paris"}', usage: { input_tokens: 14, output_tokens: 6 } });
    anthropic = await FakeAnthropic.start({ apiKeys: [ANTHROPIC_KEY] });
    broken = await FakeOpenAiResponses.start({ apiKeys: [OPENAI_KEY], content: 'Cut short', breakStreamAfter: 5 });
    chat = await FakeUpstream.start({ content: 'Hello from chat', usage: { prompt_tokens: 9, completion_tokens: 3 } });
    chatTools = await FakeUpstream.start({ toolCall: { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }, usage: { prompt_tokens: 20, completion_tokens: 7 } });
    langfuse = await FakeLangfuse.start({ keys: [project] });
    appOptions = {
      env: LOGGING_ENV,
      logDestination: gatewayLog,
      configYaml: `
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_base: ${upstream.url}
      api_key: ${OPENAI_KEY}
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5-20250929
      api_base: ${anthropic.url}
      api_key: ${ANTHROPIC_KEY}
  - model_name: gpt-badkey
    litellm_params:
      model: openai/gpt-4o
      api_base: ${upstream.url}
      api_key: ${WRONG_KEY}
  - model_name: gpt-broken
    litellm_params:
      model: openai/gpt-4o
      api_base: ${broken.url}
      api_key: ${OPENAI_KEY}
  - model_name: azure-gpt
    litellm_params:
      model: azure/my-deployment
      api_base: ${upstream.azureEndpoint}
      api_key: ${AZURE_KEY}
      api_version: "2025-04-01-preview"
    model_info:
      base_model: gpt-4o
  - model_name: chat-only
    litellm_params:
      model: hosted_vllm/llama-3
      api_base: ${chat.url}
    model_info:
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: chat-tools
    litellm_params:
      model: hosted_vllm/llama-3
      api_base: ${chatTools.url}
    model_info:
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: offline
    litellm_params:
      model: mock/offline
      mock_response: Hello offline
    model_info:
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
`,
    };
    gw = await createTestApp(appOptions);
    const teamId = await newTeam(gw, { team_alias: 'responses-team' });
    await addCallback(gw, teamId, langfuseEntry(project, langfuse.url));
    ({ key } = await newKey(gw, { team_id: teamId, key_alias: 'responses-key' }));
    client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([upstream?.close(), broken?.close(), anthropic?.close(), chat?.close(), chatTools?.close(), langfuse?.close()]);
  });

  const { onlyGeneration } = langfuseCallGenerations(() => langfuse, project.publicKey);
  const expectLogged = async (callId: string | null, usage: { input: number; output: number }): Promise<StoredObject> => {
    const generation = await onlyGeneration(callId!);
    expect(generation.usageDetails).toMatchObject(usage);
    expect((generation.costDetails as { total: number }).total).toBeGreaterThan(0);
    return generation;
  };
  /** The owner's row is written once the answer is out: waits for it. */
  const ownerRowWritten = async (id: string): Promise<void> => {
    for (let tries = 0; (await gw.dataSource.query<unknown[]>('SELECT 1 FROM response_owner WHERE id = $1', [id])).length === 0; tries++) {
      if (tries > 50) throw new Error('the owner row was never written');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const lastUpstreamBody = (): Record<string, unknown> => upstream.requests.at(-1)?.json as Record<string, unknown>;

  describe('to an OpenAI deployment: passed through', () => {
    it('plain: the body as sent (model replaced, gateway fields removed), the answer as OpenAI wrote it, logged with usage and cost', async () => {
      const { data, response } = await client.responses
        .create({ model: 'gpt', instructions: 'Be brief.', input: 'Hello', metadata: { tags: 'x' }, 'no-log': false } as OpenAI.Responses.ResponseCreateParamsNonStreaming)
        .withResponse();
      expect(data.output_text).toBe('Hello from Responses');
      expect(data.id).toMatch(/^resp_fake/);
      expect(data.model).toBe('gpt-4o-2024-08-06');
      expect(lastUpstreamBody()).toEqual({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Hello' });
      expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
      const generation = await expectLogged(response.headers.get('x-litellm-call-id'), { input: 14, output: 6 });
      expect(JSON.stringify(generation.output)).toContain('Hello from Responses');
      expect(JSON.stringify(generation)).not.toContain(OPENAI_KEY);
    });

    it('stream: the upstream events relayed, assembled by the SDK; logged once with usage', async () => {
      const stream = client.responses.stream({ model: 'gpt', input: 'Count' });
      const deltas: string[] = [];
      stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
      const final = await stream.finalResponse();
      expect(deltas.join('')).toBe('Hello from Responses');
      expect(final.output_text).toBe('Hello from Responses');
      expect(lastUpstreamBody()).toEqual({ model: 'gpt-4o', input: 'Count', stream: true });
      const { events, callId } = await streamedEvents(client, { model: 'gpt', input: 'Count', stream: true });
      expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i));
      const generation = await expectLogged(callId, { input: 14, output: 6 });
      expect(JSON.stringify(generation.output)).toContain('Hello from Responses');
    });

    it('tools round trip (streamed call, plain answer), previous_response_id, then retrieve and delete through the gateway', async () => {
      const first = await client.responses.stream({ model: 'gpt', input: 'Weather in Paris?', tools: [weather] }).finalResponse();
      const call = functionCallOf(first);
      expect(call).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' });
      const second = await client.responses.create({
        model: 'gpt',
        tools: [weather],
        previous_response_id: first.id,
        input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
      });
      expect(second.output_text).toBe('Hello from Responses sunny');
      expect(lastUpstreamBody()).toMatchObject({ previous_response_id: first.id });

      const retrieved = await client.responses.retrieve(second.id);
      expect(retrieved).toMatchObject({ id: second.id, output: second.output });
      await client.responses.delete(second.id);
      expect(upstream.stored.has(second.id)).toBe(false);
      await expect(client.responses.retrieve(second.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("another team's key cannot retrieve, delete or continue a response (the same 404 as an unknown id)", async () => {
      const made = await client.responses.create({ model: 'gpt', input: 'Mine' });
      const otherTeam = await newTeam(gw, { team_alias: 'other-team' });
      const { key: otherKey } = await newKey(gw, { team_id: otherTeam });
      const other = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: otherKey, maxRetries: 0 });
      const missing = await other.responses.retrieve('resp_doesnotexist').catch((error: unknown) => error);
      const theirs = await other.responses.retrieve(made.id).catch((error: unknown) => error);
      expect(theirs).toBeInstanceOf(NotFoundError);
      expect(missing).toBeInstanceOf(NotFoundError);
      expect((theirs as NotFoundError).message.replace(made.id, 'X')).toBe((missing as NotFoundError).message.replace('resp_doesnotexist', 'X'));
      await expect(other.responses.delete(made.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(other.responses.create({ model: 'gpt', input: 'Go on', previous_response_id: made.id })).rejects.toBeInstanceOf(NotFoundError);
      expect(upstream.stored.has(made.id)).toBe(true);
    });

    it('a team deleted and created again under the same id does not inherit its responses', async () => {
      const teamId = await newTeam(gw, { team_id: 'recreated-team' });
      const { key: first } = await newKey(gw, { team_id: teamId });
      const made = await new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: first, maxRetries: 0 }).responses.create({ model: 'gpt', input: 'Ours' });
      await ownerRowWritten(made.id);
      await gw.http().post('/team/delete').set('Authorization', `Bearer ${gw.masterKey}`).send({ team_ids: [teamId] }).expect(200);
      expect(await gw.dataSource.query('SELECT 1 FROM response_owner WHERE id = $1', [made.id])).toEqual([]);
      const { key: newcomer } = await newKey(gw, { team_id: await newTeam(gw, { team_id: 'recreated-team' }) });
      await expect(new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: newcomer, maxRetries: 0 }).responses.retrieve(made.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('who made a response outlives a restart: the key still retrieves and continues it, another team still gets 404', async () => {
      const made = await client.responses.create({ model: 'gpt', input: 'Keep me' });
      // The owner's row is written once the answer is out.
      await ownerRowWritten(made.id);
      await gw.close();
      gw = await createTestApp({ ...appOptions, keepData: true });
      client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
      expect(await client.responses.retrieve(made.id)).toMatchObject({ id: made.id });
      await client.responses.create({ model: 'gpt', input: 'Go on', previous_response_id: made.id });
      expect(lastUpstreamBody()).toMatchObject({ previous_response_id: made.id });
      const { key: otherKey } = await newKey(gw, { team_id: await newTeam(gw, { team_alias: 'after-restart' }) });
      const other = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: otherKey, maxRetries: 0 });
      await expect(other.responses.retrieve(made.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("the router's body fields (timeout, num_retries, …) are the gateway's: read as on chat, never sent upstream", async () => {
      await client.responses.create({ model: 'gpt', input: 'Quick', timeout: 30, num_retries: 1 } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
      expect(lastUpstreamBody()).toEqual({ model: 'gpt-4o', input: 'Quick' });
      const refused = await client.responses.create({ model: 'gpt', input: 'Quick', timeout: 'soon' } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(BadRequestError);
      expect((refused as BadRequestError).param).toBe('timeout');
    });

    it('built-in tools pass through to OpenAI untouched', async () => {
      await client.responses.create({ model: 'gpt', input: 'Search', tools: [{ type: 'web_search' }] });
      expect(lastUpstreamBody()).toEqual({ model: 'gpt-4o', input: 'Search', tools: [{ type: 'web_search' }] });
    });
  });

  describe('to an Azure deployment: passed through', () => {
    it("plain and stream at Azure's Responses path with the deployment as model; retrieve through Azure", async () => {
      const { data, response } = await client.responses.create({ model: 'azure-gpt', input: 'Hello' }).withResponse();
      expect(data.output_text).toBe('Hello from Responses');
      const request = upstream.requests.at(-1)!;
      expect(request.path).toBe('/openai/responses');
      expect(request.query.get('api-version')).toBe('2025-04-01-preview');
      expect(request.headers['api-key']).toBe(AZURE_KEY);
      expect(request.json).toEqual({ model: 'my-deployment', input: 'Hello' });
      await expectLogged(response.headers.get('x-litellm-call-id'), { input: 14, output: 6 });
      const streamed = await client.responses.stream({ model: 'azure-gpt', input: 'Hello' }).finalResponse();
      expect(streamed.output_text).toBe('Hello from Responses');
      expect((await client.responses.retrieve(data.id)).id).toBe(data.id);
      expect(upstream.requests.at(-1)?.path).toBe(`/openai/responses/${data.id}`);
    });
  });

  describe('AzureOpenAI clients (`/openai/responses`)', () => {
    it('create, stream, retrieve and delete with the model as the deployment name', async () => {
      const azureClient = new AzureOpenAI({ endpoint: gw.baseUrl, apiKey: key, apiVersion: '2025-04-01-preview', maxRetries: 0 });
      const { data, response } = await azureClient.responses.create({ model: 'gpt', input: 'Hello' }).withResponse();
      expect(data.output_text).toBe('Hello from Responses');
      expect(new URL(response.url).pathname).toBe('/openai/responses');
      expect((await azureClient.responses.stream({ model: 'offline', input: 'Hi' }).finalResponse()).output_text).toBe('Hello offline');
      expect((await azureClient.responses.retrieve(data.id)).id).toBe(data.id);
      await azureClient.responses.delete(data.id);
      await expect(azureClient.responses.retrieve(data.id)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('to a chat deployment: translated both ways', () => {
    it('plain: a chat request upstream, a Responses answer back, logged with usage and cost', async () => {
      chat.reset();
      const { data, response } = await client.responses
        .create({ model: 'chat-only', instructions: 'Be brief.', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: 'https://example.invalid/cat.png', detail: 'auto' }] }], max_output_tokens: 50 })
        .withResponse();
      expect(data).toMatchObject({ object: 'response', status: 'completed', usage: { input_tokens: 9, output_tokens: 3, total_tokens: 12 } });
      expect(data.id).toMatch(/^resp_/);
      expect(data.output_text).toBe('Hello from chat');
      const sent = chat.requests[0].body as Record<string, unknown>;
      expect(sent).toMatchObject({
        model: 'llama-3',
        max_tokens: 50,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'https://example.invalid/cat.png', detail: 'auto' } }] },
        ],
      });
      const generation = await expectLogged(response.headers.get('x-litellm-call-id'), { input: 9, output: 3 });
      expect(JSON.stringify(generation.output)).toContain('Hello from chat');
    });

    it('stream: chat chunks as Responses events, assembled by the SDK; logged once with usage', async () => {
      const stream = client.responses.stream({ model: 'chat-only', input: 'Count' });
      const types: string[] = [];
      const deltas: string[] = [];
      stream.on('event', (event) => types.push(event.type));
      stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
      const final = await stream.finalResponse();
      expect(deltas.join('')).toBe('Hello from chat');
      expect(final.output_text).toBe('Hello from chat');
      expect(final.usage).toMatchObject({ input_tokens: 9, output_tokens: 3 });
      expect(types[0]).toBe('response.created');
      expect(types).toContain('response.output_text.done');
      expect(types.at(-1)).toBe('response.completed');
      const { events, callId } = await streamedEvents(client, { model: 'chat-only', input: 'Count', stream: true });
      expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i));
      await expectLogged(callId, { input: 9, output: 3 });
    });

    it('tools round trip: function_call streamed with argument deltas, function_call_output sent back as a tool message', async () => {
      chatTools.reset();
      const stream = client.responses.stream({ model: 'chat-tools', input: 'Weather in Paris?', tools: [weather], tool_choice: 'auto' });
      const argumentDeltas: string[] = [];
      stream.on('response.function_call_arguments.delta', (event) => argumentDeltas.push(event.delta));
      const first = await stream.finalResponse();
      const call = functionCallOf(first);
      expect(call).toMatchObject({ type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' });
      expect(argumentDeltas.join('')).toBe('{"city":"Paris"}');
      expect((chatTools.requests[0].body as { tools: unknown }).tools).toEqual([
        { type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weather.parameters, strict: true } },
      ]);
      const second = await client.responses.create({
        model: 'chat-tools',
        tools: [weather],
        input: [{ role: 'user', content: 'Weather in Paris?' }, call, { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
      });
      expect(second.output[0]).toMatchObject({ type: 'function_call' });
      expect((chatTools.requests[1].body as { messages: unknown }).messages).toEqual([
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ]);
    });

    it('an Anthropic deployment: Responses → chat → Messages and back, plain, streamed and with a tool round trip, logged with usage and cost', async () => {
      const { data, response } = await client.responses.create({ model: 'claude', instructions: 'Be brief.', input: 'Hello', max_output_tokens: 64 }).withResponse();
      expect(data.output_text).toBe('Hello from the fake Anthropic!');
      expect(anthropic.calls.at(-1)?.json).toMatchObject({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, system: [{ type: 'text', text: 'Be brief.' }], messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] });
      await expectLogged(response.headers.get('x-litellm-call-id'), { input: 12, output: 6 });

      anthropic.next({ type: 'tool-use', calls: [{ name: 'get_weather', input: { city: 'Paris' } }] });
      const first = await client.responses.stream({ model: 'claude', input: 'Weather in Paris?', tools: [weather] }).finalResponse();
      const call = functionCallOf(first);
      expect(call).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' });
      const second = await client.responses.create({ model: 'claude', tools: [weather], input: [{ role: 'user', content: 'Weather in Paris?' }, call, { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }] });
      expect(second.output_text).toBe('Hello from the fake Anthropic!');
      const sent = anthropic.calls.at(-1)?.json as { messages: unknown[] };
      expect(sent.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: call.call_id, name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.call_id, content: 'sunny' }] },
      ]);
    });

    it('the mock provider answers plain and streamed in Responses form, logged with cost', async () => {
      const { data, response } = await client.responses.create({ model: 'offline', input: 'Hi' }).withResponse();
      expect(data.output_text).toBe('Hello offline');
      const generation = await onlyGeneration(response.headers.get('x-litellm-call-id')!);
      expect((generation.costDetails as { total: number }).total).toBeGreaterThan(0);
      const streamed = await client.responses.stream({ model: 'offline', input: 'Hi' }).finalResponse();
      expect(streamed.output_text).toBe('Hello offline');
    });

    it('what only OpenAI can serve is a 400 naming the field; no stored response to retrieve', async () => {
      const builtIn = await client.responses.create({ model: 'chat-only', input: 'Search', tools: [{ type: 'web_search' }] }).catch((error: unknown) => error);
      expect(builtIn).toBeInstanceOf(BadRequestError);
      expect((builtIn as BadRequestError).param).toBe('tools[0].type');
      await expect(client.responses.create({ model: 'offline', input: 'Go on', previous_response_id: 'resp_unknown' })).rejects.toBeInstanceOf(BadRequestError);
      const translated = await client.responses.create({ model: 'offline', input: 'Hi' });
      await expect(client.responses.retrieve(translated.id)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('a stream that breaks off', () => {
    it('native: the events before, then an `error` event the SDK raises; logged once as a failure', async () => {
      // The SDK's ResponseStream rejects with the `error` event itself.
      await expect(client.responses.stream({ model: 'gpt-broken', input: 'Hi' }).finalResponse()).rejects.toMatchObject({ type: 'error', code: 'upstream_error' });
      const raw = await fetch(`${gw.baseUrl}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-broken', input: 'Hi', stream: true }) });
      const text = await raw.text();
      expect(text).toContain('event: response.output_text.delta');
      expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: error\ndata: \{"type":"error","code":"upstream_error","message":"[^"]+","param":null,"sequence_number":5\}$/);
      const generation = await onlyGeneration(raw.headers.get('x-litellm-call-id')!);
      expect(generation.level).toBe('ERROR');
    });

    it('translated: the events before, then `response.failed` with the error; logged once as a failure', async () => {
      chat.next({ type: 'close-mid-stream', afterChunks: 2 });
      const { events, callId } = await streamedEvents(client, { model: 'chat-only', input: 'Hi', stream: true });
      expect(events.some((event) => event.type === 'response.output_text.delta')).toBe(true);
      const last = events.at(-1)!;
      expect(last.type).toBe('response.failed');
      expect((last as OpenAI.Responses.ResponseFailedEvent).response).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
      const generation = await onlyGeneration(callId!);
      expect(generation.level).toBe('ERROR');
    });
  });

  describe('privacy', () => {
    it('"no-log": true is logged nowhere (passed through or translated) and never reaches the upstream', async () => {
      const quiet = { input: 'Keep this quiet', 'no-log': true };
      const native = await client.responses.create({ model: 'gpt', ...quiet } as OpenAI.Responses.ResponseCreateParamsNonStreaming).withResponse();
      expect(lastUpstreamBody()).toEqual({ model: 'gpt-4o', input: 'Keep this quiet' });
      chat.reset();
      const translated = await client.responses.create({ model: 'chat-only', ...quiet } as OpenAI.Responses.ResponseCreateParamsNonStreaming).withResponse();
      expect(chat.last.body).not.toHaveProperty('no-log');
      // Positive control: a later logged call of the same key arrives.
      const control = await client.responses.create({ model: 'offline', input: 'Log this' }).withResponse();
      await onlyGeneration(control.response.headers.get('x-litellm-call-id')!);
      for (const { response } of [native, translated]) expect(langfuse.generations(project.publicKey, response.headers.get('x-litellm-call-id')!)).toEqual([]);
    });
  });

  describe("errors in OpenAI's envelope", () => {
    it('a key not allowed the model → LiteLLM’s 401 key_model_access_denied', async () => {
      const { key: narrow } = await newKey(gw, { models: ['offline'] });
      const limited = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: narrow, maxRetries: 0 });
      await expect(limited.responses.create({ model: 'gpt', input: 'Hi' })).rejects.toMatchObject({ status: 401, type: 'key_model_access_denied' });
      expect((await limited.responses.create({ model: 'offline', input: 'Hi' })).output_text).toBe('Hello offline');
    });

    it("the upstream refusing the deployment's key: a 502 that never shows the key, logged without it", async () => {
      await expect(client.responses.create({ model: 'gpt-badkey', input: 'Hi' })).rejects.toMatchObject({ status: 502 });
      const raw = await fetch(`${gw.baseUrl}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-badkey', input: 'Hi' }) });
      expect(raw.status).toBe(502);
      const text = await raw.text();
      expect(text).toContain('Incorrect API key provided');
      expect(text).not.toContain(WRONG_KEY);
      const generation = await onlyGeneration(raw.headers.get('x-litellm-call-id')!);
      expect(JSON.stringify(generation)).not.toContain(WRONG_KEY);
      expect(gatewayLog.text()).not.toContain(WRONG_KEY);
    });

    it('bad bodies → 400 with error.param; never a 5xx', async () => {
      const post = (body: unknown): Promise<Response> =>
        fetch(`${gw.baseUrl}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      for (const [body, param] of [
        [{ input: 'hi' }, 'model'],
        [{ model: 'offline' }, 'input'],
        [{ model: 'offline', input: 42 }, 'input'],
        [{ model: 'offline', input: [{ role: 'robot', content: 'x' }] }, 'input[0].role'],
        [{ model: 'offline', input: 'hi', stream: 'yes' }, 'stream'],
        [{ model: 'offline', input: 'hi', api_base: 'http://evil.invalid' }, 'api_base'],
        [[1, 2], null],
      ] as Array<[unknown, string | null]>) {
        const response = await post(body);
        expect(response.status).toBe(400);
        const answer = (await response.json()) as { error: { type: string; param: string | null } };
        expect(answer.error).toMatchObject({ type: 'invalid_request_error', param });
      }
    });
  });
});

describe('POST /v1/responses and the response cache', () => {
  const recorder = new RecordingLogging();
  let chat: FakeUpstream;
  let upstream: FakeOpenAiResponses;
  let gw: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    chat = await FakeUpstream.start({ content: 'Cached words', usage: { prompt_tokens: 9, completion_tokens: 3 } });
    upstream = await FakeOpenAiResponses.start({ apiKeys: [OPENAI_KEY] });
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: chat-only
    litellm_params:
      model: hosted_vllm/llama-3
      api_base: ${chat.url}
    model_info:
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_base: ${upstream.url}
      api_key: ${OPENAI_KEY}
litellm_settings:
  cache: true
  cache_params:
    type: local
    ttl: 60
`,
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
    });
    client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: gw.masterKey, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([chat?.close(), upstream?.close()]);
  });

  it('a translated answer is cached as chat and replayed in Responses form, plain and streamed, as a free hit', async () => {
    const first = await client.responses.create({ model: 'chat-only', input: 'Cache me' });
    const { data: second, response } = await client.responses.create({ model: 'chat-only', input: 'Cache me' }).withResponse();
    expect(chat.count).toBe(1);
    expect(response.headers.get('x-litellm-cache-key')).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toMatchObject({ object: 'response', output_text: first.output_text, usage: first.usage });
    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id')!);
    expect(record).toMatchObject({ call_type: 'aresponses', cache_hit: true, response_cost: 0 });
    const streamed = await client.responses.stream({ model: 'chat-only', input: 'Cache me' }).finalResponse();
    expect(streamed.output_text).toBe('Cached words');
  });

  it('an OpenAI deployment keeping responses is not cached (each call made and stored upstream); with store: false it is', async () => {
    await client.responses.create({ model: 'gpt', input: 'Keep me' });
    await client.responses.create({ model: 'gpt', input: 'Keep me' });
    expect(upstream.requests).toHaveLength(2);
    await client.responses.create({ model: 'gpt', input: 'Forget me', store: false });
    const { response } = await client.responses.create({ model: 'gpt', input: 'Forget me', store: false }).withResponse();
    expect(upstream.requests).toHaveLength(3);
    expect(response.headers.get('x-litellm-cache-key')).not.toBeNull();
  });
});
