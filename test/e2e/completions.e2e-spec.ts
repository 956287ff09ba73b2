import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import OpenAI from 'openai';
import { LoggingService } from '../../src/logging/request/logging.service';
import type { StandardLoggingPayload } from '../../src/logging/standard-logging-payload';
import type { ChatCompletionJson, DataJson, ErrorJson, FetchedAnswer, GeneratedKeyJson, NewTeamJson } from '../support/api-responses';
import { FakeUpstream, unusedPort } from '../support/fake-upstream';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp } from '../support/test-app';
import { postJson } from '../support/post-json';

const UPSTREAM_KEY = 'sk-upstream-deployment-key-abcdef';
const ANSWER = 'The quick brown fox jumps over the lazy dog.';

describe('completions: OpenAI-compatible routing, streaming, errors and call records', () => {
  let gw: TestApp;
  let recorder: RecordingLogging;
  let main: FakeUpstream;
  let second: FakeUpstream;
  let failing: FakeUpstream;
  let hanging: FakeUpstream;
  let deadPort: number;
  let key: string;
  let keyHash: string;
  let teamId: string;
  let restrictedKey: string;

  beforeAll(async () => {
    main = await FakeUpstream.start({ content: ANSWER, models: ['upstream-model'] });
    second = await FakeUpstream.start({ content: 'answer from the second deployment' });
    failing = await FakeUpstream.start({ behaviour: { type: 'status', status: 500, body: '{"error":{"message":"deployment broken"}}' } });
    hanging = await FakeUpstream.start({ behaviour: { type: 'hang' } });
    deadPort = await unusedPort();
    recorder = new RecordingLogging();
    process.env.COMPLETIONS_E2E_UPSTREAM_KEY = UPSTREAM_KEY;
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/upstream-model
      api_base: ${main.url}/
      api_key: os.environ/COMPLETIONS_E2E_UPSTREAM_KEY
    model_info:
      id: gpt-4o-main
      input_cost_per_token: 0.000002
      output_cost_per_token: 0.000008
  - model_name: text-embedding
    litellm_params:
      model: openai/upstream-embedding
      api_base: ${main.url}
      api_key: ${UPSTREAM_KEY}
  - model_name: flaky
    litellm_params:
      model: openai/flaky-a
      api_base: ${failing.url}
  - model_name: flaky
    litellm_params:
      model: openai/flaky-b
      api_base: ${second.url}
  - model_name: refused
    litellm_params:
      model: openai/nothing
      api_base: http://127.0.0.1:${deadPort}/v1
  - model_name: slow
    litellm_params:
      model: openai/slow
      api_base: ${hanging.url}
      timeout: 1
  - model_name: fake-openai-endpoint
    litellm_params:
      model: mock/fake-openai-endpoint
  - model_name: gpt-4
    litellm_params:
      model: openai/gpt-4
      mock_response: "Canned answer from the offline gpt-4."
    model_info:
      input_cost_per_token: 0.00003
      output_cost_per_token: 0.00006
`,
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
    });
    const team = await gw.http().post('/team/new').set('Authorization', `Bearer ${gw.masterKey}`).send({ team_alias: 'Completions Team' });
    expect(team.status).toBe(200);
    teamId = (team.body as NewTeamJson).team_id;
    const generated = await gw
      .http()
      .post('/key/generate')
      .set('Authorization', `Bearer ${gw.masterKey}`)
      .send({ key_alias: 'completions-key', team_id: teamId });
    expect(generated.status).toBe(200);
    const generatedKey = generated.body as GeneratedKeyJson;
    key = generatedKey.key;
    keyHash = generatedKey.token;
    const restricted = await gw
      .http()
      .post('/key/generate')
      .set('Authorization', `Bearer ${gw.masterKey}`)
      .send({ key_alias: 'restricted', models: ['gpt-4'] });
    restrictedKey = (restricted.body as GeneratedKeyJson).key;
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([main, second, failing, hanging].map((fake) => fake?.close()));
    delete process.env.COMPLETIONS_E2E_UPSTREAM_KEY;
  });

  beforeEach(() => {
    for (const fake of [main, second, failing, hanging]) {
      fake.reset();
    }
  });

  function post(path: string, body: unknown, auth = key): Promise<FetchedAnswer> {
    return postJson(gw.baseUrl + path, auth, body, { 'user-agent': 'completions-e2e/1.0' });
  }

  function sdk(apiKey = key, maxRetries = 0): OpenAI {
    return new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey, maxRetries });
  }

  describe('answers', () => {
    it('non-stream: the upstream answer byte for byte; the upstream sees the deployment key and model, and unknown fields', async () => {
      const res = await post('/v1/chat/completions', {
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Say something' }],
        temperature: 0.25,
        a_parameter_from_the_future: { nested: [1, 2, 3] },
        user: 'end-user-42',
        metadata: { tags: ['e2e', 'non-stream'], trace_id: 'trace-123', user_api_key_alias: 'spoofed-alias' },
      });
      expect(res.status).toBe(200);
      expect(res.text).toBe(main.last.sent);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.headers['x-litellm-call-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(main.last.path).toBe('/v1/chat/completions');
      expect(main.last.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
      expect(main.last.rawBody).not.toContain(key);
      expect(main.last.body).toEqual({
        model: 'upstream-model',
        messages: [{ role: 'user', content: 'Say something' }],
        temperature: 0.25,
        a_parameter_from_the_future: { nested: [1, 2, 3] },
        user: 'end-user-42',
      });

      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record).toMatchObject({
        id: 'chatcmpl-fake-1',
        trace_id: 'trace-123',
        call_type: 'acompletion',
        stream: false,
        status: 'success',
        custom_llm_provider: 'openai',
        model: 'upstream-model',
        model_group: 'gpt-4o',
        model_id: 'gpt-4o-main',
        api_base: main.url,
        prompt_tokens: 11,
        completion_tokens: 7,
        total_tokens: 18,
        end_user: 'end-user-42',
        request_tags: ['e2e', 'non-stream'],
        user_agent: 'completions-e2e/1.0',
        messages: [{ role: 'user', content: 'Say something' }],
        model_parameters: { temperature: 0.25, a_parameter_from_the_future: { nested: [1, 2, 3] }, user: 'end-user-42' },
        error_str: null,
        error_information: null,
        metadata: {
          user_api_key_hash: keyHash,
          user_api_key_alias: 'completions-key',
          user_api_key_team_id: teamId,
          user_api_key_team_alias: 'Completions Team',
          user_api_key_end_user_id: 'end-user-42',
          user_api_key_request_route: '/v1/chat/completions',
          requester_metadata: { tags: ['e2e', 'non-stream'], trace_id: 'trace-123' },
          team_id: teamId,
          team_alias: 'Completions Team',
        },
      });
      expect(record.response).toEqual(JSON.parse(main.last.sent));
      expect(record.response_cost).toBeCloseTo(11 * 0.000002 + 7 * 0.000008, 12);
      expect(record.cost_breakdown.total_cost).toBe(record.response_cost);
      expect(record.requester_ip_address).toMatch(/127\.0\.0\.1/);
      expect(record.startTime).toBeLessThanOrEqual(record.completionStartTime);
      expect(record.completionStartTime).toBeLessThanOrEqual(record.endTime);
      const serialized = JSON.stringify(record);
      expect(serialized).not.toContain(UPSTREAM_KEY);
      expect(serialized).not.toContain(key);
      expect(serialized).not.toContain('spoofed-alias');
    });

    it('stream: the upstream events as they came, minus the usage chunk the gateway asked for; the record holds the assembled answer', async () => {
      const res = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'Stream it' }], stream: true });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('text/event-stream');
      expect(res.headers['x-accel-buffering']).toBe('no');
      expect(main.last.body?.stream_options).toEqual({ include_usage: true });
      const upstreamEvents = main.last.sent.split('\n\n').filter(Boolean);
      const withoutUsage = upstreamEvents.filter((event) => !event.includes('"choices":[]'));
      expect(withoutUsage.length).toBe(upstreamEvents.length - 1);
      expect(res.text).toBe(`${withoutUsage.join('\n\n')}\n\n`);
      expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);

      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record.stream).toBe(true);
      expect(record.status).toBe('success');
      expect(record.response).toMatchObject({
        id: 'chatcmpl-fake-1',
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      });
      expect(record.total_tokens).toBe(18);
      expect(record.response_cost).toBeGreaterThan(0);
      expect(record.model_parameters).toEqual({});
    });

    it('stream with include_usage asked by the caller: byte-identical to the upstream', async () => {
      const res = await post('/v1/chat/completions', {
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(res.text).toBe(main.last.sent);
    });

    it('stream with tool calls: the record assembles the call from its fragments', async () => {
      const tools = await FakeUpstream.start({ toolCall: { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' } });
      const app = await createTestApp({
        configYaml: `model_list:\n  - model_name: tools\n    litellm_params:\n      model: openai/t\n      api_base: ${tools.url}\n`,
        override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
        keepData: true,
      });
      try {
        const response = await fetch(`${app.baseUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'tools', messages: [{ role: 'user', content: 'weather?' }], stream: true }),
        });
        await response.text();
        const record = await recorder.recordFor(response.headers.get('x-litellm-call-id') as string);
        expect((record.response as ChatCompletionJson).choices[0]).toEqual({
          index: 0,
          message: {
            role: 'assistant',
            content: '',
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
          finish_reason: 'tool_calls',
        });
      } finally {
        await app.close();
        await tools.close();
      }
    });

    it('the unprefixed routes answer the same way', async () => {
      const chat = await post('/chat/completions', { model: 'gpt-4o', messages: [] });
      expect(chat.status).toBe(200);
      expect(chat.text).toBe(main.last.sent);
      const embeddings = await post('/embeddings', { model: 'text-embedding', input: 'x' });
      expect(embeddings.status).toBe(200);
      const models = await fetch(`${gw.baseUrl}/models`, { headers: { authorization: `Bearer ${key}` } });
      expect(models.status).toBe(200);
      const chatRecord = await recorder.recordFor(chat.headers['x-litellm-call-id']);
      expect(chatRecord.metadata.user_api_key_request_route).toBe('/chat/completions');
    });

    it('embeddings: forwarded to the upstream, recorded with usage and without the vectors', async () => {
      const res = await post('/v1/embeddings', { model: 'text-embedding', input: ['a', 'b'], encoding_format: 'float' });
      expect(res.status).toBe(200);
      expect(res.text).toBe(main.last.sent);
      expect(main.last.path).toBe('/v1/embeddings');
      expect(main.last.body).toEqual({ model: 'upstream-embedding', input: ['a', 'b'], encoding_format: 'float' });
      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record).toMatchObject({ call_type: 'aembedding', status: 'success', messages: ['a', 'b'], prompt_tokens: 10, total_tokens: 10 });
      expect((record.response as DataJson<unknown[]>).data).toEqual([
        { object: 'embedding', index: 0, dimensions: 3 },
        { object: 'embedding', index: 1, dimensions: 3 },
      ]);
    });
  });

  describe('the official openai SDK', () => {
    it('non-stream chat', async () => {
      const { data, response } = await sdk()
        .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] })
        .withResponse();
      expect(data.choices[0].message.content).toBe(ANSWER);
      expect(data.usage?.total_tokens).toBe(18);
      expect(response.headers.get('x-litellm-call-id')).toBeTruthy();
    });

    it('streamed chat', async () => {
      const stream = await sdk().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }], stream: true });
      let text = '';
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      expect(text).toBe(ANSWER);
      expect(chunks).toBeGreaterThan(3);
    });

    it('streamed chat with usage requested', async () => {
      const stream = await sdk().chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Hello' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let usage: unknown = null;
      for await (const chunk of stream) {
        usage = chunk.usage ?? usage;
      }
      expect(usage).toEqual({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    });

    it('embeddings and models', async () => {
      const embeddings = await sdk().embeddings.create({ model: 'text-embedding', input: 'hello' });
      expect(embeddings.data[0].embedding.map((v) => Math.round(v * 1000) / 1000)).toEqual([0.1, 0.2, 0.3]);
      const models = await sdk().models.list();
      expect(models.data.map((m) => m.id)).toEqual(['gpt-4o', 'text-embedding', 'flaky', 'refused', 'slow', 'fake-openai-endpoint', 'gpt-4']);
      expect((await sdk().models.retrieve('gpt-4')).id).toBe('gpt-4');
    });

    it('the offline mock provider, plain and streamed', async () => {
      const plain = await sdk().chat.completions.create({ model: 'fake-openai-endpoint', messages: [{ role: 'user', content: 'Hi there' }] });
      expect(plain.choices[0].message.content).toBe('This is a mock response from Gatehouse.');
      expect(plain.usage).toEqual({ prompt_tokens: 2, completion_tokens: 10, total_tokens: 12 });
      const stream = await sdk().chat.completions.create({
        model: 'gpt-4',
        messages: [{ role: 'user', content: 'Hi there' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: unknown = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        usage = chunk.usage ?? usage;
      }
      expect(text).toBe('Canned answer from the offline gpt-4.');
      expect(usage).toEqual({ prompt_tokens: 2, completion_tokens: 10, total_tokens: 12 });
    });

    it('upstream errors surface as the SDK error classes', async () => {
      main.next({ type: 'status', status: 429, body: '{"error":{"message":"slow down"}}', headers: { 'retry-after': '3' } });
      await expect(sdk().chat.completions.create({ model: 'gpt-4o', messages: [] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
      // LiteLLM's 401 for a model outside the key's list: the SDK's AuthenticationError, as LiteLLM's tests expect.
      await expect(sdk(restrictedKey).chat.completions.create({ model: 'gpt-4o', messages: [] })).rejects.toBeInstanceOf(
        OpenAI.AuthenticationError,
      );
    });
  });

  describe('mock provider records', () => {
    it('records usage and cost of offline answers', async () => {
      const res = await post('/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: 'Hi there' }], stream: true });
      expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(res.text).not.toContain('"usage":{');
      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record).toMatchObject({ status: 'success', custom_llm_provider: 'mock', api_base: null, prompt_tokens: 2, completion_tokens: 10 });
      expect(record.response_cost).toBeCloseTo(2 * 0.00003 + 10 * 0.00006, 12);
      expect((record.response as ChatCompletionJson).choices[0].message.content).toBe('Canned answer from the offline gpt-4.');
    });
  });

  describe('upstream failures', () => {
    it('500 with a JSON error: status kept, upstream message passed through, failure recorded once', async () => {
      main.next({ type: 'status', status: 500, body: '{"error":{"message":"the model crashed","type":"server_error"}}' });
      const res = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [] });
      expect(res.status).toBe(500);
      const error = (res.json as ErrorJson).error;
      expect(error).toMatchObject({ type: 'api_error', code: 'upstream_error' });
      expect(error.message).toContain('the model crashed');
      expect(res.headers['x-litellm-call-id']).toBeTruthy();
      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record.status).toBe('failure');
      expect(record.error_information).toMatchObject({ error_code: '500', llm_provider: 'openai' });
      expect(record.error_str).toContain('the model crashed');
      expect(record.response).toBeNull();
      expect(recorder.records.filter((r) => r.payload.litellm_call_id === record.litellm_call_id)).toHaveLength(1);
    });

    it('an HTML error page is wrapped in the OpenAI error shape', async () => {
      main.next({ type: 'status', status: 503, body: '<html><body><h1>503 Service Unavailable</h1></body></html>', headers: { 'content-type': 'text/html' } });
      const res = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [] });
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toContain('application/json');
      expect((res.json as ErrorJson).error.code).toBe('upstream_error');
      expect(res.text).not.toContain('<html>');
    });

    it('429 stays 429 with the upstream retry-after', async () => {
      main.next({ type: 'status', status: 429, body: '{"error":{"message":"Rate limit reached"}}', headers: { 'retry-after': '17' } });
      const res = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [] });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('17');
      expect((res.json as ErrorJson).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
      expect(main.count).toBe(1);
      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record.error_information?.error_code).toBe('429');
    });

    it('an upstream that never answers → 504 upstream_timeout at the deployment timeout', async () => {
      const started = Date.now();
      const res = await post('/v1/chat/completions', { model: 'slow', messages: [] });
      const elapsed = Date.now() - started;
      expect(res.status).toBe(504);
      expect((res.json as ErrorJson).error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(5000);
      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record.error_information).toMatchObject({ error_code: '504', error_class: 'Timeout' });
    });

    it('connection refused → 502 upstream_error, no upstream address in the answer', async () => {
      const res = await post('/v1/chat/completions', { model: 'refused', messages: [] });
      expect(res.status).toBe(502);
      expect((res.json as ErrorJson).error).toMatchObject({ type: 'api_error', code: 'upstream_error' });
      expect(res.text).not.toContain(String(deadPort));
      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record.error_information?.error_code).toBe('502');
      expect(record.api_base).toBe(`http://127.0.0.1:${deadPort}/v1`);
    });

    it('retries across deployments: a failing deployment is skipped and the next one answers', async () => {
      const answers: (string | null)[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await post('/v1/chat/completions', { model: 'flaky', messages: [] });
        expect(res.status).toBe(200);
        answers.push((res.json as ChatCompletionJson).choices[0].message.content);
      }
      expect(new Set(answers)).toEqual(new Set(['answer from the second deployment']));
      // Round robin starts on the failing deployment every other call; each time it is tried once, then skipped.
      expect(failing.count).toBe(2);
      expect(second.count).toBe(4);
    });

    it('a stream the upstream cuts ends with an error event, and the record keeps the partial answer', async () => {
      main.next({ type: 'close-mid-stream', afterChunks: 3 });
      const res = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true });
      expect(res.status).toBe(200);
      const events = res.text.trim().split('\n\n');
      const last = JSON.parse(events[events.length - 1].slice('data: '.length)) as ErrorJson;
      expect(last.error).toMatchObject({ code: 'upstream_error' });
      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record.status).toBe('failure');
      expect((record.response as ChatCompletionJson).choices[0].message.content).toBe('The quick brown ');
    });
  });

  describe('client disconnects', () => {
    it('hanging up mid-stream aborts the upstream request and records client_disconnected', async () => {
      const slowStream = await FakeUpstream.start({ content: 'one two three four five six seven eight nine ten', chunkDelayMs: 150 });
      const app = await createTestApp({
        configYaml: `model_list:\n  - model_name: slow-stream\n    litellm_params:\n      model: openai/s\n      api_base: ${slowStream.url}\n`,
        override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
        keepData: true,
      });
      try {
        const req = httpRequest(`${app.baseUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        });
        req.on('error', () => undefined);
        req.end(JSON.stringify({ model: 'slow-stream', messages: [{ role: 'user', content: 'count' }], stream: true }));
        const [response] = (await once(req, 'response')) as [IncomingMessage];
        response.on('error', () => undefined);
        const callId = response.headers['x-litellm-call-id'] as string;
        let received = '';
        await new Promise<void>((resolve) => {
          response.on('data', (chunk: Buffer) => {
            received += chunk.toString();
            if (received.includes('"three ')) {
              resolve();
            }
          });
        });
        req.destroy();
        await slowStream.waitForAbort();
        expect(slowStream.last.clientAborted).toBe(true);
        const record = await recorder.recordFor(callId);
        expect(record.status).toBe('failure');
        expect(record.stream).toBe(true);
        expect(record.error_information).toMatchObject({ error_code: 'client_disconnected' });
        expect((record.response as ChatCompletionJson).choices[0].message.content).toMatch(/^one two three /);
        expect(record.completion_tokens).toBeGreaterThan(0);
      } finally {
        await app.close();
        await slowStream.close();
      }
    });

    it('hanging up before a non-stream answer aborts the upstream request', async () => {
      main.next({ type: 'hang' });
      // No response headers ever come, so hang up on the raw request once the upstream has it.
      const req = httpRequest(`${gw.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'gpt-4o', messages: [], user: 'leaver' }));
      await main.waitForRequests(1);
      req.destroy();
      await main.waitForAbort();
      const deadline = Date.now() + 5000;
      let record: StandardLoggingPayload | undefined;
      while (!record && Date.now() < deadline) {
        record = recorder.records.map((r) => r.payload).find((p) => p.end_user === 'leaver');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(record?.status).toBe('failure');
      expect(record?.error_information?.error_code).toBe('client_disconnected');
    });
  });

  describe('model access and request checks', () => {
    it('a model outside the key’s list → LiteLLM’s 401 key_model_access_denied naming the model; no upstream call', async () => {
      const res = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, restrictedKey);
      expect(res.status).toBe(401);
      const error = (res.json as ErrorJson).error;
      expect(error).toMatchObject({ type: 'key_model_access_denied', code: 'key_model_access_denied', param: 'model' });
      expect(error.message).toBe("key not allowed to access model. This key can only access models=['gpt-4']. Tried to access gpt-4o");
      expect(main.count).toBe(0);
      const allowed = await post('/v1/chat/completions', { model: 'gpt-4', messages: [] }, restrictedKey);
      expect(allowed.status).toBe(200);
      const models = await sdk(restrictedKey).models.list();
      expect(models.data.map((m) => m.id)).toEqual(['gpt-4']);
      await expect(sdk(restrictedKey).models.retrieve('gpt-4o')).rejects.toMatchObject({ status: 400 });
    });

    it('an unknown model → 400 model_not_found naming it, param model; the failure is recorded', async () => {
      const res = await post('/v1/chat/completions', { model: 'no-such-model', messages: [] });
      expect(res.status).toBe(400);
      const error = (res.json as ErrorJson).error;
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
      expect(error.message).toContain('no-such-model');
      const record = await recorder.recordFor(res.headers['x-litellm-call-id']);
      expect(record).toMatchObject({ status: 'failure', model_group: 'no-such-model', error_information: { error_code: '400' } });
    });

    it.each([
      [{ messages: [] }, 'model'],
      [{ model: 42, messages: [] }, 'model'],
      [{ model: 'gpt-4o', messages: 'hello' }, 'messages'],
      [{ model: 'gpt-4o' }, 'messages'],
      [{ model: 'gpt-4o', messages: [], stream: 'yes' }, 'stream'],
    ])('invalid body %j → 400 validation_failed naming %s', async (body, param) => {
      const res = await post('/v1/chat/completions', body);
      expect(res.status).toBe(400);
      expect((res.json as ErrorJson).error).toMatchObject({ code: 'validation_failed', param });
    });

    it.each([
      [{ api_base: 'http://evil.example/v1' }, 'api_base'],
      [{ api_key: 'sk-mine' }, 'api_key'],
      [{ metadata: { logging: [] } }, 'metadata.logging'],
      [{ extra_body: { base_url: 'http://evil.example' } }, 'extra_body.base_url'],
      [{ langfuse_host: 'http://evil.example' }, 'langfuse_host'],
    ])('caller overrides %j are refused (400, param %s) before any upstream call', async (extra, param) => {
      const res = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [], ...extra });
      expect(res.status).toBe(400);
      expect((res.json as ErrorJson).error.param).toBe(param);
      expect(main.count).toBe(0);
    });

    it('a missing key is refused by the guard before the completions code runs', async () => {
      const res = await fetch(`${gw.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [] }),
      });
      expect(res.status).toBe(401);
      expect(main.count).toBe(0);
    });
  });
});
