import OpenAI, { APIError } from 'openai';
import { LoggingService } from '../../src/logging/request/logging.service';
import type { GeneratedKeyJson } from '../support/api-responses';
import { FakeOllama } from '../support/fakes/fake-ollama';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp } from '../support/test-app';

const PROXY_KEY = 'ollama-proxy-key-0123456789';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('Ollama through the gateway (ollama_chat/ and ollama/), with the official openai client', () => {
  let gw: TestApp;
  let ollama: FakeOllama;
  let truncating: FakeOllama;
  const recorder = new RecordingLogging();
  let key: string;

  beforeAll(async () => {
    ollama = await FakeOllama.start({ models: ['llama3.2', 'qwen3:8b', 'nomic-embed-text'], content: 'Ollama says hi.' });
    truncating = await FakeOllama.start({ models: ['llama3.2'], truncated: true });
    process.env.OLLAMA_API_BASE = ollama.url;
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: local-chat
    litellm_params:
      model: ollama_chat/llama3.2
  - model_name: local-generate
    litellm_params:
      model: ollama/llama3.2
      api_base: ${ollama.url}
  - model_name: local-proxied
    litellm_params:
      model: ollama_chat/qwen3:8b
      api_base: ${ollama.url}/api/chat
      api_key: ${PROXY_KEY}
      num_ctx: 8192
      keep_alive: 10m
  - model_name: local-embed
    litellm_params:
      model: ollama/nomic-embed-text
  - model_name: local-truncating
    litellm_params:
      model: ollama_chat/llama3.2
      api_base: ${truncating.url}
  - model_name: local-missing
    litellm_params:
      model: ollama_chat/not-pulled
`,
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
    });
    const generated = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({ key_alias: 'ollama-e2e' });
    key = (generated.body as GeneratedKeyJson).key;
  });

  afterAll(async () => {
    await gw?.close();
    await ollama?.close();
    await truncating?.close();
    delete process.env.OLLAMA_API_BASE;
  });

  const client = (): OpenAI => new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  const sent = (): Record<string, unknown> => ollama.last.json as Record<string, unknown>;

  it('ollama_chat: /api/chat at OLLAMA_API_BASE, options mapped, no key sent; usage from the eval counts, logged at cost 0', async () => {
    const { data, response } = await client()
      .chat.completions.create({
        model: 'local-chat',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 64,
        stop: 'END',
        seed: 7,
        response_format: { type: 'json_object' },
        // LiteLLM users send Ollama's own parameters too.
        ...({ top_k: 40 } as object),
      })
      .withResponse();
    expect(data.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Ollama says hi.' }, finish_reason: 'stop' });
    expect(data.usage).toEqual({ prompt_tokens: 26, completion_tokens: 9, total_tokens: 35 });
    expect(data.object).toBe('chat.completion');
    expect(ollama.last.path).toBe('/api/chat');
    expect(ollama.last.headers.authorization).toBeUndefined();
    expect(sent()).toEqual({
      model: 'llama3.2',
      stream: false,
      options: { num_predict: 64, temperature: 0.2, top_p: 0.9, seed: 7, stop: ['END'], top_k: 40 },
      format: 'json',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
    });
    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id')!);
    expect(record).toMatchObject({ status: 'success', custom_llm_provider: 'ollama_chat', model: 'llama3.2', api_base: ollama.url, prompt_tokens: 26, completion_tokens: 9 });
    // Models on one's own Ollama are free: no list price.
    expect(record.response_cost).toBe(0);
  });

  it('streams NDJSON as OpenAI chunks, with the usage chunk on request, and logs the whole answer', async () => {
    const stream = await client()
      .chat.completions.create({ model: 'local-chat', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const chunks = [];
    for await (const chunk of stream.data) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Ollama says hi.');
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks[chunks.length - 2].choices[0].finish_reason).toBe('stop');
    expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: { prompt_tokens: 26, completion_tokens: 9, total_tokens: 35 } });
    expect((sent() as { stream: boolean }).stream).toBe(true);
    const record = await recorder.recordFor(stream.response.headers.get('x-litellm-call-id')!);
    expect(record).toMatchObject({ status: 'success', stream: true, completion_tokens: 9, response: { choices: [{ message: { content: 'Ollama says hi.' }, finish_reason: 'stop' }] } });
  });

  it("tool-call round trip: Ollama's argument objects become JSON text and go back as objects, the tool's name with its answer", async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const first = await client().chat.completions.create({ model: 'local-chat', messages: [{ role: 'user', content: 'Weather?' }], tools, tool_choice: 'auto' });
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    const call = first.choices[0].message.tool_calls![0] as { id: string; type: 'function'; function: { name: string; arguments: string } };
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris","days":2}' });
    expect(sent().tools).toEqual(tools);
    expect(sent()).not.toHaveProperty('tool_choice');

    const second = await client().chat.completions.create({
      model: 'local-chat',
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny' },
      ],
    });
    expect(second.choices[0].message.content).toBe('The tool said: sunny');
    expect((sent() as { messages: unknown[] }).messages.slice(1)).toEqual([
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris', days: 2 } } }] },
      { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
    ]);
  });

  it('streams a tool call as OpenAI tool_call deltas', async () => {
    const stream = await client().chat.completions.create({
      model: 'local-chat',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
      stream: true,
    });
    const deltas = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const toolCall of chunk.choices[0]?.delta?.tool_calls ?? []) deltas.push(toolCall);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(deltas).toEqual([expect.objectContaining({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' } })]);
    expect(finish).toBe('tool_calls');
  });

  it('images: data URIs become base64 in `images`; an image URL is refused with a 400 (the gateway fetches nothing)', async () => {
    await client().chat.completions.create({
      model: 'local-chat',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }],
    });
    expect((sent() as { messages: unknown[] }).messages).toEqual([{ role: 'user', content: 'What is this?', images: [PNG] }]);
    const refused = (await client()
      .chat.completions.create({ model: 'local-chat', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] })
      .catch((error: unknown) => error)) as APIError;
    expect(refused.status).toBe(400);
    expect(refused.message).toContain('data: URIs');
    expect(refused.param).toBe('messages[0].content');
  });

  it("ollama/: /api/generate with LiteLLM's prompt built from the messages, streamed too", async () => {
    const answer = await client().chat.completions.create({
      model: 'local-generate',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi.' },
        { role: 'user', content: 'Again?' },
      ],
    });
    expect(answer.choices[0].message.content).toBe('Ollama says hi.');
    expect(ollama.last.path).toBe('/api/generate');
    expect(sent()).toEqual({
      model: 'llama3.2',
      stream: false,
      prompt: '### System:\nYou are terse.\n\n### User:\nHello\n\n### Assistant:\nHi.\n\n### User:\nAgain?\n\n',
    });
    const stream = await client().chat.completions.create({ model: 'local-generate', messages: [{ role: 'user', content: 'Hello' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Ollama says hi.');
    const tools = (await client()
      .chat.completions.create({ model: 'local-generate', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 't' } }] })
      .catch((error: unknown) => error)) as APIError;
    expect(tools.status).toBe(400);
    expect(tools.message).toContain('ollama_chat/');
  });

  it('an api_key goes as Authorization: Bearer (Ollama behind a proxy); an api_base naming /api/chat is taken as the server; litellm_params options apply', async () => {
    await client().chat.completions.create({ model: 'local-proxied', messages: [{ role: 'user', content: 'hi' }], temperature: 0 });
    expect(ollama.last.path).toBe('/api/chat');
    expect(ollama.last.headers.authorization).toBe(`Bearer ${PROXY_KEY}`);
    expect(sent()).toMatchObject({ model: 'qwen3:8b', keep_alive: '10m', options: { num_ctx: 8192, temperature: 0 } });
  });

  it('embeddings via /api/embed (base64, as the openai client asks by default), usage from prompt_eval_count', async () => {
    const { data, response } = await client().embeddings.create({ model: 'local-embed', input: ['a', 'b'] }).withResponse();
    expect(ollama.last.path).toBe('/api/embed');
    expect(sent()).toEqual({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(data.data.map((d) => d.embedding)).toEqual([
      [0.5, -0.25, 0.125, 0],
      [1, -0.25, 0.125, 0],
    ]);
    expect(data.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
    const record = await recorder.recordFor(response.headers.get('x-litellm-call-id')!);
    expect(record).toMatchObject({ custom_llm_provider: 'ollama', call_type: 'aembedding', prompt_tokens: 6, response_cost: 0 });
  });

  it('done_reason length is finish_reason length; an unpulled model is Ollama\'s 404 in the OpenAI envelope', async () => {
    const cut = await client().chat.completions.create({ model: 'local-truncating', messages: [{ role: 'user', content: 'hi' }] });
    expect(cut.choices[0].finish_reason).toBe('length');
    const missing = (await client()
      .chat.completions.create({ model: 'local-missing', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error)) as APIError;
    expect(missing.status).toBe(404);
    expect(missing.message).toContain('model "not-pulled" not found');
  });

  it('an answer that is not JSON is a 502 upstream_protocol_error, logged once as a failure', async () => {
    ollama.server.setFailure({ status: 200, body: 'this is not json', times: 1 });
    const broken = (await client()
      .chat.completions.create({ model: 'local-chat', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error)) as APIError;
    expect(broken.status).toBe(502);
    expect(broken.code).toBe('upstream_protocol_error');
    const callId = broken.headers!.get('x-litellm-call-id')!;
    const record = await recorder.recordFor(callId);
    expect(record.status).toBe('failure');
    expect(recorder.records.filter((r) => r.payload.litellm_call_id === callId)).toHaveLength(1);
  });

  it('a malformed NDJSON line ends the stream with an upstream_protocol_error event, logged once as a failure', async () => {
    ollama.streamFaults.push({ kind: 'malformed-line' });
    const response = await fetch(`${gw.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'local-chat', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    const text = await response.text();
    const events = text.split('\n\n').filter((event) => event.startsWith('data: '));
    const last = JSON.parse(events[events.length - 1].slice(6)) as { error: { code: string; message: string } };
    expect(last.error.code).toBe('upstream_protocol_error');
    expect(last.error.message).toContain('not a JSON object');
    expect(text).not.toContain('this is not json');
    const callId = response.headers.get('x-litellm-call-id')!;
    const record = await recorder.recordFor(callId);
    expect(record.status).toBe('failure');
    expect(recorder.records.filter((r) => r.payload.litellm_call_id === callId)).toHaveLength(1);
  });

  it("Ollama's error line mid-stream ends the stream with that message", async () => {
    ollama.streamFaults.push({ kind: 'error-line', message: 'llama runner process has terminated' });
    const stream = await client().chat.completions.create({ model: 'local-chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const read = async (): Promise<void> => {
      for await (const chunk of stream) void chunk;
    };
    await expect(read()).rejects.toThrow('llama runner process has terminated');
  });
});
