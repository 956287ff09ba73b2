import OpenAI from 'openai';
import { listPrice } from '../../src/completions/prices/price-list';
import { LoggingService } from '../../src/logging/request/logging.service';
import type { GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp } from '../support/test-app';

const GROQ_KEY = 'gsk_e2e_0123456789abcdef';
const OPENROUTER_KEY = 'sk-or-v1-e2e-0123456789abcdef';
const FIREWORKS_KEY = 'fw_e2e_0123456789abcdef';
const ENV: Record<string, string> = {
  GROQ_API_KEY: GROQ_KEY,
  GROQ_API_BASE: '',
  OR_E2E_KEY: OPENROUTER_KEY,
  OR_APP_NAME: 'Gatehouse e2e',
  FIREWORKS_API_KEY: FIREWORKS_KEY,
};

describe('OpenAI-compatible hosts by prefix (groq, hosted_vllm, openrouter, fireworks_ai) through the gateway', () => {
  let gw: TestApp;
  let upstream: FakeUpstream;
  const recorder = new RecordingLogging();
  let key: string;

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ content: 'Compatible host answer.', usage: { prompt_tokens: 100, completion_tokens: 50 } });
    Object.assign(process.env, ENV, { GROQ_API_BASE: `${upstream.origin}/openai/v1` });
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: groq-llama
    litellm_params:
      model: groq/llama-3.3-70b-versatile
  - model_name: local-vllm
    litellm_params:
      model: hosted_vllm/meta-llama/Llama-3.1-8B-Instruct
      api_base: ${upstream.origin}/v1
  - model_name: router-claude
    litellm_params:
      model: openrouter/anthropic/claude-3.5-sonnet
      api_base: ${upstream.origin}/api/v1
      api_key: os.environ/OR_E2E_KEY
  - model_name: fireworks-llama
    litellm_params:
      model: fireworks_ai/llama-v3p1-8b-instruct
      api_base: ${upstream.origin}/inference/v1
`,
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
    });
    const generated = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({ key_alias: 'hosts-e2e' });
    key = (generated.body as GeneratedKeyJson).key;
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    for (const name of Object.keys(ENV)) delete process.env[name];
  });

  beforeEach(() => upstream.reset());
  const client = (): OpenAI => new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });

  it('groq: GROQ_API_BASE and GROQ_API_KEY from the environment, prefix stripped, logged as groq and priced at its list price', async () => {
    const { data, response } = await client().chat.completions.create({ model: 'groq-llama', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0].message.content).toBe('Compatible host answer.');
    expect(upstream.last.path).toBe('/openai/v1/chat/completions');
    expect(upstream.last.headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(upstream.last.body?.model).toBe('llama-3.3-70b-versatile');
    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id')!);
    const price = listPrice('groq', 'llama-3.3-70b-versatile')!;
    expect(record).toMatchObject({ custom_llm_provider: 'groq', model: 'llama-3.3-70b-versatile', api_base: `${upstream.origin}/openai/v1`, prompt_tokens: 100 });
    expect(record.response_cost).toBeCloseTo(100 * price.inputCostPerToken + 50 * price.outputCostPerToken, 12);
    expect(record.response_cost).toBeGreaterThan(0);
  });

  it('groq streams: the whole answer is logged with usage and cost', async () => {
    const stream = await client().chat.completions.create({ model: 'groq-llama', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Compatible host answer.');
    const record = await recorder.recordFor(stream.response.headers.get('x-litellm-call-id')!);
    expect(record).toMatchObject({ custom_llm_provider: 'groq', stream: true, completion_tokens: 50 });
    expect(record.response_cost).toBeGreaterThan(0);
  });

  it('hosted_vllm: no key needed and none sent; the model keeps its own slash', async () => {
    const { response } = await client().chat.completions.create({ model: 'local-vllm', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(upstream.last.path).toBe('/v1/chat/completions');
    expect(upstream.last.headers.authorization).toBeUndefined();
    expect(upstream.last.body?.model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id')!);
    expect(record.custom_llm_provider).toBe('hosted_vllm');
    // A model on one's own server has no list price: cost 0 unless the config prices it.
    expect(record.response_cost).toBe(0);
  });

  it('openrouter: the key from os.environ/, OR_APP_NAME as X-Title, embeddings relayed too', async () => {
    await client().chat.completions.create({ model: 'router-claude', messages: [{ role: 'user', content: 'hi' }] });
    expect(upstream.last.path).toBe('/api/v1/chat/completions');
    expect(upstream.last.headers.authorization).toBe(`Bearer ${OPENROUTER_KEY}`);
    expect(upstream.last.headers['x-title']).toBe('Gatehouse e2e');
    expect(upstream.last.body?.model).toBe('anthropic/claude-3.5-sonnet');
    const embedded = await client().embeddings.create({ model: 'router-claude', input: 'x' });
    expect(embedded.data).toHaveLength(1);
    expect(upstream.last.path).toBe('/api/v1/embeddings');
  });

  it("fireworks_ai: a short model name is sent as Fireworks' accounts/fireworks/models/ name, with FIREWORKS_API_KEY", async () => {
    const { response } = await client().chat.completions.create({ model: 'fireworks-llama', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(upstream.last.path).toBe('/inference/v1/chat/completions');
    expect(upstream.last.body?.model).toBe('accounts/fireworks/models/llama-v3p1-8b-instruct');
    expect(upstream.last.headers.authorization).toBe(`Bearer ${FIREWORKS_KEY}`);
    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id')!);
    expect(record.custom_llm_provider).toBe('fireworks_ai');
    expect(record.response_cost).toBeCloseTo(150 * 0.2e-6, 12);
  });
});
