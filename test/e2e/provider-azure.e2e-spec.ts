import OpenAI, { APIError } from 'openai';
import { listPrice } from '../../src/completions/prices/price-list';
import { LoggingService } from '../../src/logging/request/logging.service';
import type { GeneratedKeyJson } from '../support/api-responses';
import { azureRateLimited, FakeAzureOpenAi, FakeEntraId } from '../support/fakes/fake-azure-openai';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp } from '../support/test-app';

const AZURE_KEY = 'azure-e2e-key-0123456789abcdef';
const SP_SECRET = 'entra-client-secret-e2e-0123456789';
const WRONG_SECRET = 'entra-wrong-secret-e2e-9876543210';
const ENV = {
  AZURE_API_BASE: '',
  AZURE_API_VERSION: '2023-05-15',
  AZURE_E2E_KEY: AZURE_KEY,
  AZURE_E2E_SECRET: SP_SECRET,
  AZURE_E2E_WRONG_SECRET: WRONG_SECRET,
};

describe('Azure OpenAI through the gateway, with the official openai client', () => {
  let gw: TestApp;
  let azure: FakeAzureOpenAi;
  let entra: FakeEntraId;
  const recorder = new RecordingLogging();
  const tokens: string[] = [];
  let key: string;

  beforeAll(async () => {
    azure = await FakeAzureOpenAi.start({
      deployments: { 'chat-deploy': 'gpt-4o-2024-08-06', 'embed-deploy': 'text-embedding-3-small' },
      apiKeys: [AZURE_KEY],
      bearerTokens: tokens,
      blockedWord: 'forbidden-topic',
      content: 'Azure says hello to the gateway.',
    });
    entra = await FakeEntraId.start({ tenantId: 'tenant-e2e', clientId: 'client-e2e', clientSecret: SP_SECRET, scope: 'https://cognitiveservices.azure.com/.default' }, tokens);
    Object.assign(process.env, ENV, { AZURE_API_BASE: azure.endpoint });
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: azure-gpt
    litellm_params:
      model: azure/chat-deploy
      api_base: os.environ/AZURE_API_BASE
      api_key: os.environ/AZURE_E2E_KEY
      api_version: "2024-10-21"
    model_info:
      base_model: gpt-4o
  - model_name: azure-old-version
    litellm_params:
      model: azure/chat-deploy
      api_base: os.environ/AZURE_API_BASE
      api_key: os.environ/AZURE_E2E_KEY
    model_info:
      base_model: gpt-4o
  - model_name: azure-embed
    litellm_params:
      model: azure/embed-deploy
      api_base: os.environ/AZURE_API_BASE
      api_key: os.environ/AZURE_E2E_KEY
      api_version: "2024-10-21"
    model_info:
      base_model: text-embedding-3-small
  - model_name: azure-entra
    litellm_params:
      model: azure/o_series/chat-deploy
      api_base: os.environ/AZURE_API_BASE
      api_version: "2024-10-21"
      tenant_id: tenant-e2e
      client_id: client-e2e
      client_secret: os.environ/AZURE_E2E_SECRET
      azure_authority_host: ${entra.authorityHost}
  - model_name: azure-entra-refused
    litellm_params:
      model: azure/chat-deploy
      api_base: os.environ/AZURE_API_BASE
      tenant_id: tenant-e2e
      client_id: client-e2e
      client_secret: os.environ/AZURE_E2E_WRONG_SECRET
      azure_authority_host: ${entra.authorityHost}
  - model_name: azure-bad-key
    litellm_params:
      model: azure/chat-deploy
      api_base: os.environ/AZURE_API_BASE
      api_key: not-the-key
      api_version: "2024-10-21"
`,
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
    });
    const generated = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({ key_alias: 'azure-e2e' });
    key = (generated.body as GeneratedKeyJson).key;
  });

  afterAll(async () => {
    await gw?.close();
    await azure?.close();
    await entra?.close();
    for (const name of Object.keys(ENV)) delete process.env[name];
  });

  const client = (): OpenAI => new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  const lastAzureRequest = () => azure.requests[azure.requests.length - 1];
  const gpt4o = listPrice('openai', 'gpt-4o')!;

  it('plain chat: Azure path, api-version from litellm_params, api-key header; the log names azure, the deployment, usage and the base model list price', async () => {
    const { data, response } = await client().chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0].message.content).toBe('Azure says hello to the gateway.');
    const request = lastAzureRequest();
    expect(request.path).toBe('/openai/deployments/chat-deploy/chat/completions');
    expect(request.query.get('api-version')).toBe('2024-10-21');
    expect(request.headers['api-key']).toBe(AZURE_KEY);
    expect(request.headers.authorization).toBeUndefined();
    expect((request.json as { model: string }).model).toBe('chat-deploy');

    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id')!);
    expect(record).toMatchObject({
      status: 'success',
      custom_llm_provider: 'azure',
      model: 'chat-deploy',
      model_group: 'azure-gpt',
      api_base: azure.endpoint,
      prompt_tokens: 12,
      completion_tokens: 8,
    });
    expect(record.response_cost).toBeGreaterThan(0);
    expect(record.response_cost).toBeCloseTo(12 * gpt4o.inputCostPerToken + 8 * gpt4o.outputCostPerToken, 12);
    expect(JSON.stringify(record)).not.toContain(AZURE_KEY);
  });

  it('streams (the choice-less first chunk passes through), and logs the whole answer with its usage', async () => {
    const stream = await client().chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Azure says hello to the gateway.');
    expect((lastAzureRequest().json as { stream_options: unknown }).stream_options).toEqual({ include_usage: true });

    const record = await recorder.recordFor(stream.response.headers.get('x-litellm-call-id')!);
    expect(record.status).toBe('success');
    expect(record).toMatchObject({ custom_llm_provider: 'azure', model: 'chat-deploy', prompt_tokens: 12, completion_tokens: 8 });
    expect(record.response).toMatchObject({ id: 'chatcmpl-AZURE0002', model: 'gpt-4o-2024-08-06', choices: [{ message: { content: 'Azure says hello to the gateway.' } }] });
    expect(record.response_cost).toBeCloseTo(12 * gpt4o.inputCostPerToken + 8 * gpt4o.outputCostPerToken, 12);
  });

  it('api_version from AZURE_API_VERSION (2023-05-15): the stream goes without stream_options, which that version refuses, and usage is estimated', async () => {
    const stream = await client()
      .chat.completions.create({ model: 'azure-old-version', messages: [{ role: 'user', content: 'hello there' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Azure says hello to the gateway.');
    const request = lastAzureRequest();
    expect(request.query.get('api-version')).toBe('2023-05-15');
    expect(request.json).not.toHaveProperty('stream_options');
    expect((request.json as { stream: boolean }).stream).toBe(true);
    const record = await recorder.recordFor(stream.response.headers.get('x-litellm-call-id')!);
    expect(record.status).toBe('success');
    expect(record.completion_tokens).toBeGreaterThan(0);
    expect(record.response_cost).toBeGreaterThan(0);
  });

  it('tool-call round trip', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const first = await client().chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
    const call = first.choices[0].message.tool_calls![0] as { id: string; type: 'function'; function: { name: string; arguments: string } };
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    const second = await client().chat.completions.create({
      model: 'azure-gpt',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' },
      ],
    });
    expect(second.choices[0].message.content).toBe('Azure says hello to the gateway.');
    expect((lastAzureRequest().json as { messages: Array<{ role: string }> }).messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
  });

  it('embeddings at /openai/deployments/{deployment}/embeddings, priced from model_info.base_model', async () => {
    const { data, response } = await client().embeddings.create({ model: 'azure-embed', input: ['one', 'two'] }).withResponse();
    expect(data.data.map((d) => d.embedding)).toEqual([
      [0.25, -0.5, 0.125],
      [0.5, -0.5, 0.125],
    ]);
    expect(lastAzureRequest().path).toBe('/openai/deployments/embed-deploy/embeddings');
    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id')!);
    expect(record).toMatchObject({ custom_llm_provider: 'azure', call_type: 'aembedding', prompt_tokens: 8 });
    expect(record.response_cost).toBeCloseTo(8 * listPrice('openai', 'text-embedding-3-small')!.inputCostPerToken, 12);
  });

  it('a 429 keeps its status and retry-after; the content filter 400 keeps code content_filter; a refused key is a 502', async () => {
    azure.server.setFailure({ status: 429, body: azureRateLimited('2024-10-21', 6), retryAfter: '6', times: 1 });
    const limited = await client()
      .chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(APIError);
    expect((limited as APIError).status).toBe(429);
    expect((limited as APIError).headers?.get('retry-after')).toBe('6');
    expect((limited as APIError).message).toContain('exceeded token rate limit');

    const filtered = (await client()
      .chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'tell me about forbidden-topic' }] })
      .catch((error: unknown) => error)) as APIError;
    expect(filtered.status).toBe(400);
    expect(filtered.code).toBe('content_filter');
    expect(filtered.param).toBe('prompt');
    expect(filtered.message).toContain("content management policy");

    const refused = (await client()
      .chat.completions.create({ model: 'azure-bad-key', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error)) as APIError;
    expect(refused.status).toBe(502);
    expect(refused.message).toContain("the deployment's upstream credentials were rejected");
    expect(refused.message).not.toContain('not-the-key');
  });

  it('a failed call is logged once, as a failure', async () => {
    const before = recorder.records.length;
    const { response } = await client()
      .chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'forbidden-topic' }] })
      .withResponse()
      .catch((error: APIError) => ({ response: { headers: error.headers! } }));
    const callId = response.headers.get('x-litellm-call-id')!;
    const record = await recorder.recordFor(callId);
    expect(record.status).toBe('failure');
    expect(record.error_information).toMatchObject({ error_code: '400', error_class: 'ContentPolicyViolationError' });
    expect(recorder.records.slice(before).filter((r) => r.payload.litellm_call_id === callId)).toHaveLength(1);
  });

  it('Entra ID service principal: one token fetched and reused; the routing marker azure/o_series/ is not part of the deployment', async () => {
    const before = entra.tokenRequests.length;
    for (let i = 0; i < 3; i++) {
      const answer = await client().chat.completions.create({ model: 'azure-entra', messages: [{ role: 'user', content: `hi ${i}` }] });
      expect(answer.choices[0].message.content).toBe('Azure says hello to the gateway.');
      const request = lastAzureRequest();
      expect(request.path).toBe('/openai/deployments/chat-deploy/chat/completions');
      expect(request.headers.authorization).toBe(`Bearer ${tokens[0]}`);
      expect(request.headers['api-key']).toBeUndefined();
    }
    expect(entra.tokenRequests.length - before).toBe(1);
    const form = new URLSearchParams(entra.tokenRequests[before].text);
    expect(entra.tokenRequests[before].path).toBe('/tenant-e2e/oauth2/v2.0/token');
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client-e2e',
      client_secret: SP_SECRET,
      scope: 'https://cognitiveservices.azure.com/.default',
    });
  });

  it('a refused service principal is a 502 whose text, like the log, holds no secret', async () => {
    const refused = (await client()
      .chat.completions.create({ model: 'azure-entra-refused', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse()
      .catch((error: unknown) => error)) as APIError;
    expect(refused.status).toBe(502);
    expect(refused.message).toContain('Microsoft Entra ID refused');
    expect(refused.message).toContain('invalid_client');
    const record = await recorder.recordFor(refused.headers!.get('x-litellm-call-id')!);
    expect(record.status).toBe('failure');
    const everything = JSON.stringify({ message: refused.message, error: refused.error, record });
    for (const secret of [WRONG_SECRET, SP_SECRET, AZURE_KEY]) expect(everything).not.toContain(secret);
  });
});
