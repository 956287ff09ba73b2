import OpenAI from 'openai';
import { DeploymentTable, type RoutedModel } from '../../src/completions/deployment-table';
import { listPrice } from '../../src/completions/prices/price-list';
import type { UpstreamRequest } from '../../src/completions/providers/provider';
import { deploymentFor } from '../../src/completions/wildcard-deployment';
import { LoggingService } from '../../src/logging/request/logging.service';
import type { GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { FakeAnthropic } from '../support/fakes/fake-anthropic';
import { FakeGemini, makeServiceAccount } from '../support/fakes/fake-gemini';
import { apiErrorOf } from '../support/openai-client-errors';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp } from '../support/test-app';

const ANTHROPIC_KEY = 'sk-ant-api03-wildcards-e2e-key-0123456789abcdef';
const OPENAI_KEY = 'sk-wildcards-e2e-openai-key-0123456789';

/**
 * Issue 25, wildcards and aliases, with the official `openai` client against the OpenAI-style fake and the Anthropic
 * fake: `*` → openai/*, `anthropic/*`, a prefix pattern, an exact name over every pattern, `model_group_alias` (a
 * hidden one too), key model patterns (allowed, and LiteLLM's 401 key_model_access_denied), `/v1/models`, and the call record
 * naming the requested model, its provider and its list-price cost.
 */
describe('wildcard model names and model_group_alias through the gateway', () => {
  let gw: TestApp;
  let recorder: RecordingLogging;
  let openai: FakeUpstream;
  let anthropic: FakeAnthropic;
  let admin: OpenAI;

  const clientFor = (apiKey: string) => new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey, maxRetries: 0 });
  const keyWith = async (models: string[]): Promise<OpenAI> => {
    const res = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({ models }).expect(200);
    return clientFor((res.body as GeneratedKeyJson).key);
  };
  const chat = async (client: OpenAI, model: string) => {
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    return { data, record: await recorder.recordFor(response.headers.get('x-litellm-call-id') as string) };
  };

  beforeAll(async () => {
    openai = await FakeUpstream.start({ content: 'from openai' });
    anthropic = await FakeAnthropic.start({ apiKeys: [ANTHROPIC_KEY] });
    recorder = new RecordingLogging();
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: "*"
    litellm_params:
      model: openai/*
      api_base: ${openai.url}
      api_key: ${OPENAI_KEY}
  - model_name: "anthropic/*"
    litellm_params:
      model: anthropic/*
      api_base: ${anthropic.url}
      api_key: ${ANTHROPIC_KEY}
  - model_name: "claude-*"
    litellm_params:
      model: anthropic/claude-*
      api_base: ${anthropic.url}
      api_key: ${ANTHROPIC_KEY}
    model_info:
      access_groups: ["beta-models"]
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-2024-08-06
      api_base: ${openai.url}
      api_key: ${OPENAI_KEY}
    model_info:
      access_groups: ["beta-models"]
router_settings:
  model_group_alias:
    smart: gpt-4o
    secret-claude: {model: anthropic/claude-opus-4-1, hidden: true}
`,
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
    });
    admin = clientFor(gw.masterKey);
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([openai?.close(), anthropic?.close()]);
  });

  beforeEach(() => {
    openai.reset();
    anthropic.reset();
  });

  it('`*` → openai/*: any name goes to OpenAI as the upstream model, logged and priced by that name', async () => {
    const { data, record } = await chat(admin, 'gpt-4.1-mini');
    expect(data.choices[0].message.content).toBe('from openai');
    expect(openai.requests[0].path).toMatch(/\/chat\/completions$/);
    expect(openai.requests[0].body).toMatchObject({ model: 'gpt-4.1-mini' });
    const price = listPrice('openai', 'gpt-4.1-mini')!;
    expect(record).toMatchObject({ model: 'gpt-4.1-mini', model_group: 'gpt-4.1-mini', custom_llm_provider: 'openai', status: 'success' });
    expect(record.response_cost).toBeCloseTo(record.prompt_tokens * price.inputCostPerToken + record.completion_tokens * price.outputCostPerToken, 12);
    expect(record.response_cost).toBeGreaterThan(0);
  });

  it('`anthropic/*`: `anthropic/claude-x` goes to Anthropic as `claude-x`', async () => {
    const { data, record } = await chat(admin, 'anthropic/claude-sonnet-4-5');
    expect(data.choices[0].message.content).toBe('Hello from the fake Anthropic!');
    expect(anthropic.calls[0].json).toMatchObject({ model: 'claude-sonnet-4-5' });
    expect(openai.requests).toHaveLength(0);
    const price = listPrice('anthropic', 'claude-sonnet-4-5')!;
    expect(record).toMatchObject({ model: 'claude-sonnet-4-5', custom_llm_provider: 'anthropic' });
    expect(record.response_cost).toBeCloseTo(record.prompt_tokens * price.inputCostPerToken + record.completion_tokens * price.outputCostPerToken, 12);
  });

  it('a prefix pattern beats `*`, an exact model_name beats every pattern', async () => {
    await chat(admin, 'claude-opus-4-1');
    expect(anthropic.calls[0].json).toMatchObject({ model: 'claude-opus-4-1' });
    const { record } = await chat(admin, 'gpt-4o');
    expect(openai.requests[0].body).toMatchObject({ model: 'gpt-4o-2024-08-06' });
    expect(record.model).toBe('gpt-4o-2024-08-06');
  });

  it('model_group_alias: the alias goes to its group, a hidden alias too', async () => {
    await chat(admin, 'smart');
    expect(openai.requests[0].body).toMatchObject({ model: 'gpt-4o-2024-08-06' });
    const { record } = await chat(admin, 'secret-claude');
    expect(anthropic.calls[0].json).toMatchObject({ model: 'claude-opus-4-1' });
    expect(record).toMatchObject({ model: 'claude-opus-4-1', custom_llm_provider: 'anthropic', model_group: 'secret-claude' });
  });

  it('a key limited to `anthropic/*` may call anthropic/claude-x and gets 401 key_model_access_denied for gpt-4', async () => {
    const limited = await keyWith(['anthropic/*']);
    await chat(limited, 'anthropic/claude-haiku-4-5');
    expect(anthropic.calls[0].json).toMatchObject({ model: 'claude-haiku-4-5' });
    const error = await apiErrorOf(limited.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'Hi' }] }));
    expect(error.status).toBe(401);
    expect(error.code).toBe('key_model_access_denied');
    expect(openai.requests).toHaveLength(0);
  });

  it('key patterns: a prefix pattern, and an alias allowed through its group', async () => {
    const prefix = await keyWith(['gpt-4*']);
    await chat(prefix, 'gpt-4.1');
    await chat(prefix, 'smart'); // alias of gpt-4o, which `gpt-4*` allows
    expect((await apiErrorOf(prefix.chat.completions.create({ model: 'o3', messages: [{ role: 'user', content: 'Hi' }] }))).status).toBe(401);
  });

  it('model access groups: a key naming `beta-models` may call every model in it (a pattern group and an alias too), and nothing else', async () => {
    const beta = await keyWith(['beta-models']);
    await chat(beta, 'claude-haiku-4-5');
    expect(anthropic.calls[0].json).toMatchObject({ model: 'claude-haiku-4-5' });
    await chat(beta, 'gpt-4o');
    await chat(beta, 'smart');
    const refused = await apiErrorOf(beta.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Hi' }] }));
    expect([refused.status, refused.code]).toEqual([401, 'key_model_access_denied']);
    expect((await beta.models.list()).data.map((m) => m.id)).toEqual(['claude-*', 'gpt-4o', 'smart']);
  });

  it('/model/info and /model_group/info: the models a key may call, routed and priced, never a credential', async () => {
    type Infos = { data: Array<Record<string, unknown>> };
    const get = async (path: string, key: string) => (await gw.http().get(path).set('Authorization', `Bearer ${key}`).expect(200)).body as Infos;
    const all = await get('/model/info', gw.masterKey);
    expect(all.data.map((info) => info.model_name)).toEqual(['*', 'anthropic/*', 'claude-*', 'gpt-4o']);
    expect(all.data[3]).toMatchObject({
      litellm_params: { model: 'openai/gpt-4o-2024-08-06', api_base: openai.url },
      model_info: { db_model: false, mode: 'chat', litellm_provider: 'openai', access_groups: ['beta-models'] },
    });
    const text = JSON.stringify([all, await get('/v1/model/info', gw.masterKey), await get('/model_group/info', gw.masterKey)]);
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY]) expect(text).not.toContain(secret);

    const beta = (await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({ models: ['beta-models'] }).expect(200)).body as GeneratedKeyJson;
    expect((await get('/model/info', beta.key)).data.map((info) => info.model_name)).toEqual(['claude-*', 'gpt-4o']);
    const groups = await get('/model_group/info', beta.key);
    expect(groups.data).toEqual([
      expect.objectContaining({ model_group: 'claude-*', providers: ['anthropic'], mode: 'chat', access_groups: ['beta-models'] }),
      expect.objectContaining({ model_group: 'gpt-4o', providers: ['openai'], mode: 'chat', access_groups: ['beta-models'] }),
    ]);
    const id = (all.data[3].model_info as { id: string }).id;
    expect((await get(`/model/info?litellm_model_id=${id}`, gw.masterKey)).data.map((info) => info.model_name)).toEqual(['gpt-4o']);
    expect((await get('/model_group/info?model_group=gpt-4o', beta.key)).data).toHaveLength(1);
    expect((await get('/model_group/info?model_group=anthropic%2F*', beta.key)).data).toEqual([]);
  });

  it('/v1/messages through `anthropic/*`: the Messages body goes to Anthropic with the model the `*` made', async () => {
    const response = await fetch(`${gw.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.masterKey, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'anthropic/claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(anthropic.calls[0].json).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 50 });
    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id') as string);
    expect(record).toMatchObject({ model: 'claude-haiku-4-5', custom_llm_provider: 'anthropic' });
  });

  it('/v1/models lists the configured names (patterns as written) and visible aliases, as far as the key may call them', async () => {
    const all = await admin.models.list();
    expect(all.data.map((m) => m.id)).toEqual(['*', 'anthropic/*', 'claude-*', 'gpt-4o', 'smart']);
    const limited = await keyWith(['anthropic/*']);
    // `claude-*` too: a bare Claude name is Anthropic's, as LiteLLM infers it.
    expect((await limited.models.list()).data.map((m) => m.id)).toEqual(['anthropic/*', 'claude-*']);
    const prefix = await keyWith(['gpt-4*']);
    expect((await prefix.models.list()).data.map((m) => m.id)).toEqual(['gpt-4o', 'smart']);
  });

  it('/v1/models/{id} answers for a name a pattern matches, model_not_found for one the key may not call', async () => {
    expect(await admin.models.retrieve('gpt-4.1-nano')).toMatchObject({ id: 'gpt-4.1-nano', object: 'model' });
    const limited = await keyWith(['anthropic/*']);
    const viaEncodedSlash = await gw
      .http()
      .get('/v1/models/anthropic%2Fclaude-x')
      .set('Authorization', `Bearer ${limited.apiKey}`)
      .expect(200);
    expect(viaEncodedSlash.body).toMatchObject({ id: 'anthropic/claude-x' });
    const refused = await apiErrorOf(limited.models.retrieve('gpt-4'));
    expect([refused.status, refused.code]).toEqual([400, 'model_not_found']);
  });

  it('vertex_ai/*: each call names its own model in the Vertex path (the token from the fake, no upstream call)', async () => {
    const account = makeServiceAccount('wildcards');
    const google = await FakeGemini.start({ serviceAccounts: [account] });
    const table = new DeploymentTable(
      [
        {
          model_name: 'vertex_ai/*',
          litellm_params: { model: 'vertex_ai/*', vertex_credentials: account.json(google.tokenUri), vertex_project: 'p1', vertex_location: 'europe-west4' },
          model_info: {},
        },
      ],
      { env: {}, pools: false },
    );
    try {
      const pathOf = async (requested: string): Promise<string> => {
        const routed = table.route(requested) as RoutedModel;
        const d = deploymentFor(routed.group.deployments[0], routed.segments, routed.name);
        const request: UpstreamRequest = await d.target!.request({ endpoint: 'chat', stream: false, body: { messages: [] }, upstreamModel: d.upstreamModel, callId: 'c' });
        return request.path;
      };
      expect(await pathOf('vertex_ai/gemini-2.5-pro')).toBe('/v1/projects/p1/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent');
      expect(await pathOf('vertex_ai/gemini-2.5-flash')).toBe('/v1/projects/p1/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent');
    } finally {
      await table.close();
      await google.close();
    }
  });
});
