import OpenAI from 'openai';
import { listPrice } from '../../src/completions/prices/price-list';
import { FakeGemini, vector } from '../support/fakes/fake-gemini';
import { FakeLangfuse, type KeyPair } from '../support/fakes/fake-langfuse';
import { EnvScope, LOGGING_ENV, marker, newKey, sleep, waitFor, waitForLangfuse } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';
import { apiErrorOf } from '../support/openai-client-errors';

const GEMINI_KEY = 'AIzaGatehouseGeminiTest0123456789abcdef';
const project: KeyPair = { publicKey: 'pk-lf-gemini-e2e', secretKey: 'sk-lf-gemini-e2e-0123456789' };



/**
 * `gemini/<model>` through the gateway with the official `openai` client, against the Gemini fake (proven with
 * `@google/genai` in fake-gemini.e2e-spec.ts): the OpenAI request is Google's on the wire (x-goog-api-key, never
 * `?key=`; contents, systemInstruction, generationConfig, function declarations Google accepts), answers and
 * streams come back in OpenAI's shapes, safety blocks as `content_filter`, Google's errors as OpenAI errors, and
 * each call is logged once at a Langfuse destination with provider, model, usage, the whole answer and its cost.
 */
describe('gemini/ provider (Google AI Studio) through the gateway', () => {
  const env = new EnvScope();
  let fake: FakeGemini;
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await FakeGemini.start({ apiKeys: [GEMINI_KEY] });
    langfuse = await FakeLangfuse.start({ keys: [project] });
    env.set({ GEMINI_API_KEY: GEMINI_KEY });
    gw = await createTestApp({
      configYaml: `
model_list:
  - model_name: flash
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: ${fake.url}/v1beta
  - model_name: embedder
    litellm_params:
      model: gemini/gemini-embedding-001
      api_base: ${fake.url}/v1beta
      api_key: os.environ/GEMINI_API_KEY
  - model_name: wrong-key
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: ${fake.url}/v1beta
      api_key: AIzaThisKeyIsNotKnownToGoogle0123456789
litellm_settings:
  default_team_settings:
    - team_id: gemini-team
      success_callback: ["langfuse"]
      failure_callback: ["langfuse"]
      langfuse_public_key: ${project.publicKey}
      langfuse_secret: ${project.secretKey}
      langfuse_host: ${langfuse.url}
`,
      env: LOGGING_ENV,
    });
    const { key } = await newKey(gw, { team_id: 'gemini-team', key_alias: 'gemini-e2e' });
    client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([fake?.close(), langfuse?.close()]);
    env.restore();
  });

  beforeEach(() => fake.reset());

  it('plain chat: Google\'s request on the wire, an OpenAI chat.completion back, logged with cost = usage × list price', async () => {
    const mark = marker('gemini-plain');
    const answer = await client.chat.completions.create({
      model: 'flash',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: `Hello ${mark}` },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: 'Again' },
      ],
      temperature: 0.3,
      max_tokens: 50,
      stop: 'END',
      top_p: 0.9,
      seed: 7,
    });
    expect(answer.object).toBe('chat.completion');
    expect(answer.model).toBe('gemini-2.5-flash-001');
    expect(answer.choices).toEqual([{ index: 0, message: { role: 'assistant', content: 'Hello from the fake Gemini!' }, logprobs: null, finish_reason: 'stop' }]);
    expect(answer.usage).toEqual({ prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 });

    const call = fake.modelCalls[0];
    expect(call.request.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(call.request.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(call.request.json).toEqual({
      contents: [
        { role: 'user', parts: [{ text: `Hello ${mark}` }] },
        { role: 'model', parts: [{ text: 'Hi!' }] },
        { role: 'user', parts: [{ text: 'Again' }] },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { temperature: 0.3, topP: 0.9, maxOutputTokens: 50, stopSequences: ['END'], seed: 7 },
    });

    const { generation } = await waitForLangfuse(langfuse, project.publicKey, mark);
    const price = listPrice('gemini', 'gemini-2.5-flash');
    expect(price).not.toBeNull();
    expect(generation.model).toBe('gemini-2.5-flash');
    expect(generation.usageDetails).toEqual({ input: 12, output: 6, total: 18 });
    expect((generation.costDetails as { total: number }).total).toBeCloseTo(12 * price!.inputCostPerToken + 6 * price!.outputCostPerToken, 12);
    expect((generation.costDetails as { total: number }).total).toBeGreaterThan(0);
    expect(generation.metadata).toMatchObject({ custom_llm_provider: 'gemini', api_base: `${fake.url}/v1beta` });
  });

  it('streamed: every piece in order, the usage chunk when asked for, finish_reason once; the log has the whole answer and its cost', async () => {
    const mark = marker('gemini-stream');
    fake.next({ type: 'text', pieces: ['The ', 'whole ', 'streamed ', 'answer.'], thought: 'Let me think.', usage: { candidatesTokenCount: 4, thoughtsTokenCount: 10, totalTokenCount: 26 } });
    const stream = await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: `Stream ${mark}` }], stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe('The whole streamed answer.');
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', reasoning_content: 'Let me think.' });
    expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason !== null && chunk.choices[0]?.finish_reason !== undefined).map((chunk) => chunk.choices[0].finish_reason)).toEqual(['stop']);
    // Thinking is billed as output: 4 answer + 10 thought tokens.
    expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 14, total_tokens: 26, completion_tokens_details: { reasoning_tokens: 10 } } });
    expect(chunks.every((chunk) => chunk.model === 'gemini-2.5-flash-001' && chunk.id === chunks[0].id)).toBe(true);
    expect(fake.modelCalls[0].request.url).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');

    const { generation } = await waitForLangfuse(langfuse, project.publicKey, mark);
    expect(JSON.stringify(generation.output)).toContain('The whole streamed answer.');
    expect(generation.usageDetails).toEqual({ input: 12, output: 14, total: 26 });
    const price = listPrice('gemini', 'gemini-2.5-flash')!;
    expect((generation.costDetails as { total: number }).total).toBeCloseTo(12 * price.inputCostPerToken + 14 * price.outputCostPerToken, 12);
  });

  it('tool calls round trip: JSON-schema tools Google accepts, function calls as tool_calls, results as functionResponse; the thought signature rides in the id', async () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          strict: true,
          parameters: {
            $schema: 'http://json-schema.org/draft-07/schema#',
            type: 'object',
            properties: { city: { type: 'string' }, unit: { anyOf: [{ $ref: '#/$defs/Unit' }, { type: 'null' }] } },
            required: ['city', 'unit'],
            additionalProperties: false,
            $defs: { Unit: { type: 'string', enum: ['C', 'F'] } },
          },
        },
      },
      { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } },
    ];
    fake.next({ type: 'function-call', calls: [{ name: 'get_weather', args: { city: 'Paris', unit: 'C' } }], thoughtSignature: 'c2lnbmF0dXJl' });
    const first = await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'auto' });
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    const toolCalls = first.choices[0].message.tool_calls ?? [];
    expect(toolCalls).toHaveLength(1);
    const toolCall = toolCalls[0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(toolCall).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"C"}' } });
    expect(toolCall.id).toMatch(/^call_[0-9a-f]{24}/);
    expect(fake.modelCalls[0].request.json).toMatchObject({
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Weather for a city',
              parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['C', 'F'], nullable: true } }, required: ['city', 'unit'] },
            },
            { name: 'now' },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    });

    fake.next({ type: 'text', text: 'It is 18°C in Paris.' });
    const second = await client.chat.completions.create({
      model: 'flash',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: toolCalls },
        { role: 'tool', tool_call_id: toolCall.id, content: '{"temp": 18}' },
      ],
      tools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(second.choices[0].message.content).toBe('It is 18°C in Paris.');
    expect(fake.modelCalls[1].request.json).toMatchObject({
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris', unit: 'C' } }, thoughtSignature: 'c2lnbmF0dXJl' }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: '{"temp": 18}' } } }] },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    });

    fake.next({ type: 'function-call', calls: [{ name: 'get_weather', args: { city: 'Oslo' } }, { name: 'now', args: {} }] });
    const stream = await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'Oslo?' }], tools, stream: true });
    const deltas: OpenAI.Chat.Completions.ChatCompletionChunk.Choice[] = [];
    for await (const chunk of stream) deltas.push(...chunk.choices);
    expect(deltas.flatMap((choice) => choice.delta.tool_calls ?? []).map((call) => [call.index, call.function?.name, call.function?.arguments])).toEqual([
      [0, 'get_weather', '{"city":"Oslo"}'],
      [1, 'now', '{}'],
    ]);
    expect(deltas[deltas.length - 1].finish_reason).toBe('tool_calls');
  });

  it('images: a data URI as inlineData, a URL as fileData for Google to fetch', async () => {
    await client.chat.completions.create({
      model: 'flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect((fake.modelCalls[0].request.json as { contents: unknown[] }).contents).toEqual([
      { role: 'user', parts: [{ text: 'Compare' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }, { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } }] },
    ]);
  });

  it('embeddings: batchEmbedContents, dimensions → outputDimensionality, base64 as the client asks by default; estimated usage is priced', async () => {
    const mark = marker('gemini-embed');
    const answer = await client.embeddings.create({ model: 'embedder', input: [`first ${mark}`, 'second'], dimensions: 4 });
    expect(answer.data.map((item) => [item.index, Array.from(item.embedding)])).toEqual([
      [0, vector(`first ${mark}`, 4)],
      [1, vector('second', 4)],
    ]);
    expect(answer.usage.prompt_tokens).toBeGreaterThan(0);
    const call = fake.modelCalls[0];
    expect(call.request.url).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(call.request.json).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: `first ${mark}` }] }, outputDimensionality: 4 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'second' }] }, outputDimensionality: 4 },
      ],
    });
    const floats = await client.embeddings.create({ model: 'embedder', input: 'third', encoding_format: 'float' });
    expect(floats.data[0].embedding).toEqual(vector('third', 8));
    const { generation } = await waitForLangfuse(langfuse, project.publicKey, mark);
    expect((generation.costDetails as { total: number }).total).toBeCloseTo(answer.usage.prompt_tokens * listPrice('gemini', 'gemini-embedding-001')!.inputCostPerToken, 12);
  });

  it('safety: a blocked prompt and a withheld answer are 200s with finish_reason content_filter, plain and streamed', async () => {
    fake.next({ type: 'prompt-blocked', blockReason: 'PROHIBITED_CONTENT' }, { type: 'filtered', finishReason: 'SAFETY' }, { type: 'prompt-blocked' }, { type: 'filtered', finishReason: 'RECITATION' });
    const blocked = await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'bad' }] });
    expect(blocked.choices).toEqual([{ index: 0, message: { role: 'assistant', content: null }, logprobs: null, finish_reason: 'content_filter' }]);
    expect(blocked.usage?.prompt_tokens).toBe(12);
    const withheld = await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'bad' }] });
    expect(withheld.choices[0]).toMatchObject({ message: { content: null }, finish_reason: 'content_filter' });
    for (let i = 0; i < 2; i++) {
      const finishes: Array<string | null> = [];
      for await (const chunk of await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'bad' }], stream: true })) {
        finishes.push(...chunk.choices.map((choice) => choice.finish_reason));
      }
      expect(finishes).toEqual(['content_filter']);
    }
  });

  it.each([
    [429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', 429, 'rate_limited'],
    [400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', 400, 'validation_failed'],
    [403, 'PERMISSION_DENIED', 'Permission denied on resource project.', 502, 'upstream_error'],
    [503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.', 503, 'upstream_error'],
    [500, 'INTERNAL', 'An internal error has occurred.', 500, 'upstream_error'],
  ])('Google %i %s ("%s") is an OpenAI error with status %i (%s) carrying Google\'s message', async (status, googleStatus, message, expected, code) => {
    fake.next({ type: 'error', status, googleStatus, message, retryAfter: status === 429 ? '7' : undefined });
    const error = await apiErrorOf(client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: 'hi' }] }));
    expect([error.status, error.code]).toEqual([expected, code]);
    expect(error.message).toContain(`${googleStatus}: ${message}`);
    if (status === 429) expect(error.headers?.get('retry-after')).toBe('7');
  });

  it('a key Google does not know (its 400 API_KEY_INVALID) is the deployment\'s credentials refused: 502, the key in no text', async () => {
    const error = await apiErrorOf(client.chat.completions.create({ model: 'wrong-key', messages: [{ role: 'user', content: 'hi' }] }));
    expect([error.status, error.code]).toEqual([502, 'upstream_error']);
    expect(error.message).toContain("the deployment's upstream credentials were rejected");
    expect(error.message).not.toContain('AIzaThisKeyIsNotKnownToGoogle');
    expect(fake.requests[0].headers['x-goog-api-key']).toBe('AIzaThisKeyIsNotKnownToGoogle0123456789');
    expect(fake.requests.every((request) => !request.url.includes('key='))).toBe(true);
  });

  it('an answer that is not Google\'s format is a 502 and one failure log; so is a stream event that is not JSON', async () => {
    const plainMark = marker('gemini-malformed');
    fake.next({ type: 'raw', body: '{"choices": [{"message": {"content": "an OpenAI answer"}}]}' });
    const plain = await apiErrorOf(client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: `hi ${plainMark}` }] }));
    expect([plain.status, plain.code]).toEqual([502, 'upstream_protocol_error']);
    expect(plain.message).toMatch(/gemini upstream answered in an unexpected format: it is not a GenerateContentResponse/);

    const streamMark = marker('gemini-malformed-stream');
    const good = `data: ${JSON.stringify({ candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Partial' }] } }] })}\r\n\r\n`;
    fake.next({ type: 'raw', body: `${good}data: <html>proxy error</html>\r\n\r\n` });
    const seen: string[] = [];
    const consume = async (): Promise<void> => {
      for await (const chunk of await client.chat.completions.create({ model: 'flash', messages: [{ role: 'user', content: `hi ${streamMark}` }], stream: true })) {
        seen.push(chunk.choices[0]?.delta?.content ?? '');
      }
    };
    await expect(consume()).rejects.toThrow(/unexpected format: the answer is not JSON/);
    expect(seen.join('')).toBe('Partial');

    for (const mark of [plainMark, streamMark]) {
      const { generation } = await waitForLangfuse(langfuse, project.publicKey, mark);
      expect(generation.level).toBe('ERROR');
    }
    await sleep(300);
    for (const mark of [plainMark, streamMark]) {
      expect(langfuse.generations(project.publicKey).filter((generation) => JSON.stringify(generation).includes(mark))).toHaveLength(1);
    }
  });

  it('a request Google cannot be given is the caller\'s 400 naming the field; Google is not called', async () => {
    const error = await apiErrorOf(
      client.chat.completions.create({
        model: 'flash',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{not json' } }] },
        ],
      }),
    );
    expect([error.status, error.code, error.param]).toEqual([400, 'validation_failed', 'messages[1].tool_calls[0].function.arguments']);
    await waitFor('the failure to be answered', () => true);
    expect(fake.modelCalls).toHaveLength(0);
  });
});
