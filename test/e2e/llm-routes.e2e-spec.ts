import OpenAI, { AzureOpenAI } from 'openai';
import { listPrice } from '../../src/completions/prices/price-list';
import { FakeUpstream } from '../support/fake-upstream';
import { FakeAnthropic } from '../support/fakes/fake-anthropic';
import { FakeLangfuse, type StoredObject } from '../support/fakes/fake-langfuse';
import { langfuseProject } from '../support/logging/fixtures';
import { addCallback, expectCostOf, langfuseCallGenerations, langfuseEntry, LogCapture, LOGGING_ENV, marker, newKey, newTeam } from '../support/logging/harness';
import { errorOf } from '../support/api-responses';
import { apiErrorOf } from '../support/openai-client-errors';
import { envelopeOf, rawRequest } from '../support/raw-http';
import { createTestApp, type TestApp } from '../support/test-app';

const UPSTREAM_KEY = 'sk-upstream-llm-routes-0123456789';
const ANTHROPIC_KEY = 'sk-ant-api03-llm-routes-e2e-key-0123456789abcdef';
const SONNET = 'claude-sonnet-4-5-20250929';
const API_VERSION = '2024-10-21';
const PRICES = { input: 0.000001, output: 0.000002 };

/**
 * Issue 25, two LLM routes with the official `openai` client: the Azure-style `/openai/deployments/{deployment}/...`
 * routes (`AzureOpenAI`: chat plain and streamed, embeddings; the key in `api-key`) and the legacy `/v1/completions`
 * (relayed to an OpenAI-style upstream's `/v1/completions`, answered through chat by Anthropic and by a chat-only
 * OpenAI-format host), each logged once at a Langfuse destination with usage and cost.
 */
describe('LLM routes: Azure-style and /v1/completions', () => {
  const project = langfuseProject('llm-routes');
  const gatewayLog = new LogCapture();
  let upstream: FakeUpstream;
  let anthropic: FakeAnthropic;
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ usage: { prompt_tokens: 11, completion_tokens: 7 } });
    anthropic = await FakeAnthropic.start({ apiKeys: [ANTHROPIC_KEY] });
    langfuse = await FakeLangfuse.start({ keys: [project] });
    const priced = `    model_info:\n      input_cost_per_token: ${PRICES.input}\n      output_cost_per_token: ${PRICES.output}`;
    gw = await createTestApp({
      env: LOGGING_ENV,
      logDestination: gatewayLog,
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: ${upstream.url}
      api_key: ${UPSTREAM_KEY}
${priced}
  - model_name: team-a/gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: ${upstream.url}
      api_key: ${UPSTREAM_KEY}
  - model_name: embedder
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: ${upstream.url}
      api_key: ${UPSTREAM_KEY}
${priced}
  - model_name: instruct
    litellm_params:
      model: text-completion-openai/gpt-3.5-turbo-instruct
      api_base: ${upstream.url}
      api_key: ${UPSTREAM_KEY}
${priced}
  - model_name: groq-chat
    litellm_params:
      model: groq/llama-3.1-8b-instant
      api_base: ${upstream.url}
      api_key: ${UPSTREAM_KEY}
${priced}
  - model_name: claude
    litellm_params:
      model: anthropic/${SONNET}
      api_base: ${anthropic.url}
      api_key: ${ANTHROPIC_KEY}
litellm_settings:
  cache: true
`,
    });
    const teamId = await newTeam(gw, { team_alias: 'llm-routes-team' });
    await addCallback(gw, teamId, langfuseEntry(project, langfuse.url));
    ({ key } = await newKey(gw, { team_id: teamId }));
    client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([upstream?.close(), anthropic?.close(), langfuse?.close()]);
  });

  const { onlyGeneration } = langfuseCallGenerations(() => langfuse, project.publicKey);
  const traceName = (callId: string): unknown => langfuse.traces(project.publicKey).find((trace) => trace.id === callId)?.name;
  const azure = (deployment?: string): AzureOpenAI =>
    new AzureOpenAI({ endpoint: gw.baseUrl, apiKey: key, apiVersion: API_VERSION, maxRetries: 0, ...(deployment ? { deployment } : {}) });
  const lastUpstream = (): NonNullable<FakeUpstream['requests'][number]> => upstream.requests[upstream.requests.length - 1];

  const expectLogged = async (callId: string, expected: { callType: string; provider: string; usage: { prompt_tokens: number; completion_tokens: number }; output: string; prices?: { input: number; output: number } }): Promise<StoredObject> => {
    const generation = await onlyGeneration(callId);
    expect(generation.metadata).toMatchObject({ custom_llm_provider: expected.provider, status: 'success' });
    expect(JSON.stringify(generation.output)).toContain(expected.output);
    expectCostOf(generation, expected.usage, expected.prices ?? PRICES);
    expect(traceName(callId)).toBe(`litellm-${expected.callType}`);
    return generation;
  };

  describe('Azure-style routes with AzureOpenAI', () => {
    it('chat: the path names the model group, the key comes as api-key, api-version is accepted; logged with usage and cost', async () => {
      const content = marker('azure-chat');
      const { data, response } = await azure('gpt-4o')
        .chat.completions.create({ model: 'whatever-the-client-says', messages: [{ role: 'user', content }] })
        .withResponse();
      expect(data.choices[0].message.content).toBe('Hello from the fake upstream!');
      expect(response.url).toBe(`${gw.baseUrl}/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`);
      const sent = lastUpstream();
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.body).toMatchObject({ model: 'gpt-4o', messages: [{ role: 'user', content }] });
      // The gateway's key stays at the gateway; the upstream gets the configured one.
      expect(sent.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
      expect(JSON.stringify(sent.headers)).not.toContain(key);
      const generation = await expectLogged(response.headers.get('x-litellm-call-id')!, { callType: 'acompletion', provider: 'openai', usage: data.usage!, output: 'Hello from the fake upstream!' });
      expect(generation.metadata).toMatchObject({ model_group: 'gpt-4o' });
    });

    it('chat streamed', async () => {
      const content = marker('azure-stream');
      const { data: stream, response } = await azure('gpt-4o')
        .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], stream: true, stream_options: { include_usage: true } })
        .withResponse();
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        usage = chunk.usage ?? usage;
      }
      expect(text).toBe('Hello from the fake upstream!');
      expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
      await expectLogged(response.headers.get('x-litellm-call-id')!, { callType: 'acompletion', provider: 'openai', usage: usage!, output: 'Hello from the fake upstream!' });
    });

    it('embeddings: without a client deployment the client puts the body model in the path', async () => {
      const input = marker('azure-embed');
      const { data, response } = await azure().embeddings.create({ model: 'embedder', input }).withResponse();
      expect(response.url).toBe(`${gw.baseUrl}/openai/deployments/embedder/embeddings?api-version=${API_VERSION}`);
      expect(data.data).toHaveLength(1);
      expect(data.data[0].embedding).toHaveLength(3);
      expect(lastUpstream()).toMatchObject({ path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input } });
      const generation = await onlyGeneration(response.headers.get('x-litellm-call-id')!);
      expect(generation.metadata).toMatchObject({ custom_llm_provider: 'openai', status: 'success', model_group: 'embedder' });
      expect((generation.costDetails as { total: number }).total).toBeCloseTo(5 * PRICES.input, 12);
      expect(traceName(response.headers.get('x-litellm-call-id')!)).toBe('litellm-aembedding');
    });

    it('a deployment name with a slash, percent-encoded or not, and a Bearer key work too (REST form)', async () => {
      for (const path of ['/openai/deployments/gpt-4o/chat/completions', '/openai/deployments/gpt-4o/chat/completions?api-version=2025-04-01-preview']) {
        const res = await gw.http().post(path).set('Authorization', `Bearer ${key}`).send({ messages: [{ role: 'user', content: marker('rest') }] });
        expect([path, res.status]).toEqual([path, 200]);
      }
      for (const path of ['/openai/deployments/team-a/gpt-4o/chat/completions', '/openai/deployments/team-a%2Fgpt-4o/chat/completions']) {
        const slashed = await gw.http().post(`${path}?api-version=preview`).set('api-key', key).send({ messages: [{ role: 'user', content: marker('slash') }] });
        expect([path, slashed.status]).toEqual([path, 200]);
        expect(lastUpstream().body).toMatchObject({ model: 'gpt-4o' });
      }
      const unknown = await gw.http().post('/openai/deployments/openai/gpt-4o/chat/completions').set('api-key', key).send({ messages: [{ role: 'user', content: 'x' }] });
      expect(errorOf(unknown)).toMatchObject({ code: 'model_not_found', param: 'model' });
      expect(errorOf(unknown).message).toContain("'openai/gpt-4o'");
    });

    it('bad input: a malformed api-version → 400; an unknown deployment → model_not_found; missing messages → 400', async () => {
      const badVersion = await gw.http().post('/openai/deployments/gpt-4o/chat/completions?api-version=yesterday').set('api-key', key).send({ messages: [] });
      expect(badVersion.status).toBe(400);
      expect(errorOf(badVersion)).toMatchObject({ type: 'invalid_request_error', code: 'validation_failed', param: 'api-version' });
      const unknown = await apiErrorOf(azure('no-such-model').chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }));
      expect(unknown).toMatchObject({ status: 400, code: 'model_not_found', param: 'model' });
      const noMessages = await gw.http().post(`/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`).set('api-key', key).send({});
      expect(errorOf(noMessages)).toMatchObject({ code: 'validation_failed', param: 'messages' });
      const twice = await gw.http().post(`/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}&api-version=${API_VERSION}`).set('api-key', key).send({});
      expect(errorOf(twice)).toMatchObject({ code: 'repeated_parameter' });
    });

    it('keys: none → 401; api-key twice, or api-key and Authorization disagreeing → 400 duplicate_api_key; agreeing → accepted', async () => {
      const route = `/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`;
      const body = { messages: [{ role: 'user', content: marker('keys') }] };
      const none = await gw.http().post(route).send(body);
      expect(none.status).toBe(401);
      expect(errorOf(none)).toMatchObject({ type: 'authentication_error', code: 'missing_api_key' });
      const disagreeing = await gw.http().post(route).set('api-key', key).set('Authorization', `Bearer ${gw.masterKey}`).send(body);
      expect(disagreeing.status).toBe(400);
      expect(errorOf(disagreeing)).toMatchObject({ code: 'duplicate_api_key' });
      expect(JSON.stringify(disagreeing.body)).not.toContain(key);
      // Two api-key headers: supertest would merge them, so they go as raw bytes.
      const json = JSON.stringify(body);
      const headers: [string, string][] = [['content-type', 'application/json'], ['api-key', key], ['api-key', key]];
      const twice = await rawRequest(gw.baseUrl, { method: 'POST', path: route, headers, body: json });
      expect([twice.status, envelopeOf(twice)?.code, envelopeOf(twice)?.param]).toEqual([400, 'duplicate_api_key', 'api-key']);
      const agreeing = await gw.http().post(route).set('api-key', key).set('Authorization', `Bearer ${key}`).send(body);
      expect(agreeing.status).toBe(200);
      const unknownKey = await gw.http().post(route).set('api-key', 'sk-not-a-gateway-key-000000000000').send(body);
      expect(unknownKey.status).toBe(401);
    });
  });

  describe('/v1/completions', () => {
    it('the fake answers the openai client on /v1/completions itself (plain and streamed)', async () => {
      const direct = new OpenAI({ baseURL: upstream.url, apiKey: UPSTREAM_KEY, maxRetries: 0 });
      const plain = await direct.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'hi' });
      expect(plain).toMatchObject({ object: 'text_completion', choices: [{ text: 'Hello from the fake upstream!' }] });
      let text = '';
      for await (const chunk of await direct.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'hi', stream: true })) text += chunk.choices[0]?.text ?? '';
      expect(text).toBe('Hello from the fake upstream!');
    });

    it('text-completion-openai/: the body goes to the upstream /v1/completions unchanged, the answer comes back byte for byte; logged as atext_completion', async () => {
      const prompt = marker('instruct');
      const { data, response } = await client.completions.create({ model: 'instruct', prompt, max_tokens: 20, echo: false, logprobs: 2, suffix: 'end' }).withResponse();
      const sent = lastUpstream();
      expect(sent.path).toBe('/v1/completions');
      expect(sent.body).toEqual({ model: 'gpt-3.5-turbo-instruct', prompt, max_tokens: 20, echo: false, logprobs: 2, suffix: 'end' });
      expect(JSON.stringify(data)).toBe(sent.sent);
      expect(data).toMatchObject({ object: 'text_completion', choices: [{ text: 'Hello from the fake upstream!', finish_reason: 'stop' }] });
      const generation = await expectLogged(response.headers.get('x-litellm-call-id')!, { callType: 'atext_completion', provider: 'text-completion-openai', usage: data.usage!, output: 'Hello from the fake upstream!' });
      expect(JSON.stringify(generation.input)).toContain(prompt);
    });

    it('text-completion-openai/ streamed: relayed as SSE, the usage chunk only when asked for; the log has the assembled text and usage', async () => {
      const prompt = marker('instruct-stream');
      const { data: stream, response } = await client.completions.create({ model: 'instruct', prompt, stream: true }).withResponse();
      const chunks: OpenAI.Completion[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('')).toBe('Hello from the fake upstream!');
      expect(chunks.every((chunk) => chunk.object === 'text_completion' && chunk.choices.length === 1)).toBe(true);
      expect(lastUpstream().body).toMatchObject({ prompt, stream: true, stream_options: { include_usage: true } });
      await expectLogged(response.headers.get('x-litellm-call-id')!, { callType: 'atext_completion', provider: 'text-completion-openai', usage: { prompt_tokens: 11, completion_tokens: 7 }, output: 'Hello from the fake upstream!' });
    });

    it('an Anthropic deployment answers through chat: the prompt as the user message, the answer as text_completion', async () => {
      const prompt = marker('claude');
      anthropic.reset();
      const { data, response } = await client.completions.create({ model: 'claude', prompt, max_tokens: 50, temperature: 0.2 }).withResponse();
      expect(anthropic.calls[0].json).toMatchObject({ model: SONNET, messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }], max_tokens: 50, temperature: 0.2 });
      expect(data).toMatchObject({ object: 'text_completion', model: SONNET, choices: [{ index: 0, text: 'Hello from the fake Anthropic!', finish_reason: 'stop', logprobs: null }] });
      expect(data.id).toMatch(/^msg_/);
      expect(data.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });
      const price = listPrice('anthropic', SONNET)!;
      await expectLogged(response.headers.get('x-litellm-call-id')!, { callType: 'atext_completion', provider: 'anthropic', usage: data.usage!, output: 'Hello from the fake Anthropic!', prices: { input: price.inputCostPerToken, output: price.outputCostPerToken } });
    });

    it('an Anthropic deployment streamed: text_completion chunks, the usage chunk when asked for, then [DONE]', async () => {
      const prompt = marker('claude-stream');
      const res = await fetch(`${gw.baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude', prompt, stream: true, stream_options: { include_usage: true } }),
      });
      expect(res.status).toBe(200);
      const events = (await res.text()).split('\n\n').filter((event) => event.startsWith('data: ')).map((event) => event.slice(6));
      expect(events[events.length - 1]).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as OpenAI.Completion);
      expect(chunks.every((chunk) => chunk.object === 'text_completion')).toBe(true);
      const text = chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('');
      expect(text).toBe('Hello from the fake Anthropic!');
      const usage = chunks[chunks.length - 1];
      expect(usage.choices).toEqual([]);
      expect(usage.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 6 });
      expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'stop')).toBe(true);
      const price = listPrice('anthropic', SONNET)!;
      await expectLogged(res.headers.get('x-litellm-call-id')!, { callType: 'atext_completion', provider: 'anthropic', usage: usage.usage!, output: text, prices: { input: price.inputCostPerToken, output: price.outputCostPerToken } });
    });

    it('a chat-only OpenAI-format host (groq/) answers through its chat route, plain and streamed with the openai client', async () => {
      const prompt = marker('groq');
      const plain = await client.completions.create({ model: 'groq-chat', prompt: [prompt, 'second'] });
      expect(lastUpstream()).toMatchObject({ path: '/v1/chat/completions', body: { model: 'llama-3.1-8b-instant', messages: [{ role: 'user', content: prompt }, { role: 'user', content: 'second' }] } });
      expect(lastUpstream().body).not.toHaveProperty('prompt');
      expect(plain).toMatchObject({ object: 'text_completion', system_fingerprint: 'fp_fake', choices: [{ text: 'Hello from the fake upstream!' }], usage: { prompt_tokens: 11, completion_tokens: 7 } });
      const { data: stream, response } = await client.completions.create({ model: 'groq-chat', prompt: `${prompt}-s`, stream: true }).withResponse();
      let text = '';
      const objects = new Set<string>();
      for await (const chunk of stream) {
        objects.add(chunk.object);
        text += chunk.choices[0]?.text ?? '';
      }
      expect(text).toBe('Hello from the fake upstream!');
      expect([...objects]).toEqual(['text_completion']);
      await expectLogged(response.headers.get('x-litellm-call-id')!, { callType: 'atext_completion', provider: 'groq', usage: { prompt_tokens: 11, completion_tokens: 7 }, output: 'Hello from the fake upstream!' });
    });

    it('bad input: missing or malformed prompt → 400; token ids or echo for a chat-only deployment → 400; unknown model → model_not_found', async () => {
      const post = (body: Record<string, unknown>) => gw.http().post('/v1/completions').set('Authorization', `Bearer ${key}`).send(body);
      for (const body of [{ model: 'instruct' }, { model: 'instruct', prompt: 42 }, { model: 'instruct', prompt: [] }, { model: 'instruct', prompt: [{ text: 'x' }] }]) {
        const res = await post(body);
        expect([JSON.stringify(body), res.status, errorOf(res).param]).toEqual([JSON.stringify(body), 400, 'prompt']);
      }
      const calls = anthropic.calls.length;
      const tokens = await post({ model: 'claude', prompt: [1, 2, 3] });
      expect(errorOf(tokens)).toMatchObject({ code: 'validation_failed', param: 'prompt' });
      const echo = await post({ model: 'claude', prompt: 'x', echo: true });
      expect(errorOf(echo)).toMatchObject({ code: 'validation_failed', param: 'echo' });
      expect(anthropic.calls.length).toBe(calls);
      // Token ids are fine where the upstream has the legacy route.
      expect((await post({ model: 'instruct', prompt: [1, 2, 3] })).status).toBe(200);
      const unknown = await apiErrorOf(client.completions.create({ model: 'no-such-model', prompt: 'x' }));
      expect(unknown).toMatchObject({ status: 400, code: 'model_not_found' });
      const noKey = await gw.http().post('/v1/completions').send({ model: 'instruct', prompt: 'x' });
      expect(noKey.status).toBe(401);
      // The Azure-style text route: the deployment from the path, the rest as on /v1/completions.
      const azureText = await azure('instruct').completions.create({ model: 'ignored', prompt: marker('azure-text') });
      expect(azureText.choices[0].text).toBe('Hello from the fake upstream!');
      expect(lastUpstream()).toMatchObject({ path: '/v1/completions', body: { model: 'gpt-3.5-turbo-instruct' } });
    });

    it('cached by prompt: the same prompt is a hit (not sent upstream), another prompt a miss; a stream is replayed as a stream', async () => {
      const prompt = marker('cache');
      const first = await gw.http().post('/v1/completions').set('Authorization', `Bearer ${key}`).send({ model: 'instruct', prompt });
      const before = upstream.requests.length;
      const second = await gw.http().post('/v1/completions').set('Authorization', `Bearer ${key}`).send({ model: 'instruct', prompt });
      expect(second.headers['x-litellm-cache-key']).toMatch(/^[0-9a-f]{64}$/);
      expect(second.text).toBe(first.text);
      expect(upstream.requests.length).toBe(before);
      const other = await gw.http().post('/v1/completions').set('Authorization', `Bearer ${key}`).send({ model: 'instruct', prompt: `${prompt}!` });
      expect(other.headers['x-litellm-cache-key']).toBeUndefined();
      // A chat request with the same words does not hit the text entry (the route is part of the key).
      const chat = await gw.http().post('/v1/chat/completions').set('Authorization', `Bearer ${key}`).send({ model: 'instruct', messages: [{ role: 'user', content: prompt }] });
      expect(chat.headers['x-litellm-cache-key']).toBeUndefined();

      const streamed = await gw.http().post('/v1/completions').set('Authorization', `Bearer ${key}`).send({ model: 'instruct', prompt, stream: true });
      expect(streamed.headers['x-litellm-cache-key']).toBeUndefined(); // stored as JSON: not replayed as another form
      const replayed = await gw.http().post('/v1/completions').set('Authorization', `Bearer ${key}`).send({ model: 'instruct', prompt, stream: true });
      expect(replayed.headers['x-litellm-cache-key']).toMatch(/^[0-9a-f]{64}$/);
      expect(replayed.text).toContain('"object":"text_completion"');
      expect(replayed.text.endsWith('data: [DONE]\n\n')).toBe(true);
    });
  });

  it('Swagger shows the routes', async () => {
    const doc = (await gw.http().get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, { security?: unknown[]; parameters?: Array<{ name: string; in: string; required?: boolean }> }>> };
    for (const path of ['/v1/completions', '/completions', '/openai/deployments/{deployment}/chat/completions', '/openai/deployments/{deployment}/embeddings', '/openai/deployments/{deployment}/completions']) {
      expect([path, doc.paths[path]?.post?.security]).toEqual([path, [{ bearer: [] }]]);
    }
    const parameters = doc.paths['/openai/deployments/{deployment}/chat/completions'].post.parameters ?? [];
    expect(parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'deployment', in: 'path' }), expect.objectContaining({ name: 'api-version', in: 'query', required: false })]));
  });
});
