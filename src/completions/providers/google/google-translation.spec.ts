import { AppException } from '../../../errors';
import type { ProviderCall } from '../provider';
import { UpstreamErrorEvent, UpstreamProtocolError } from '../provider';
import { toChatCompletion, usageOf } from './chat-answer';
import { toGenerateContentRequest } from './chat-request';
import { GenerateContentStream } from './chat-stream';
import { toGoogleSchema } from './function-schema';
import { readGoogleError } from './google-errors';

const call = (body: Record<string, unknown> = {}, stream = false): ProviderCall => ({ endpoint: 'chat', stream, body, upstreamModel: 'gemini-2.5-flash', callId: 'call-1' });

function badRequest(run: () => unknown): { param: string | null; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof AppException && error.status === 400) return { param: error.param, message: error.message };
    throw error;
  }
  throw new Error('no 400');
}

describe('OpenAI chat request → generateContent', () => {
  const convert = (body: Record<string, unknown>) => toGenerateContentRequest(body, {});

  it('system and developer messages (wherever they stand) become systemInstruction; consecutive turns of one kind merge', () => {
    const request = convert({
      messages: [
        { role: 'system', content: 'A' },
        { role: 'user', content: 'one' },
        { role: 'user', content: [{ type: 'text', text: 'two' }, { type: 'text', text: '' }] },
        { role: 'developer', content: [{ type: 'text', text: 'B' }] },
        { role: 'assistant', content: 'x' },
        { role: 'assistant', content: '' },
      ],
    });
    expect(request).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
        { role: 'model', parts: [{ text: 'x' }] },
      ],
      systemInstruction: { parts: [{ text: 'A' }, { text: 'B' }] },
    });
  });

  it('only system messages: Google still gets a user turn (it refuses empty contents)', () => {
    expect(convert({ messages: [{ role: 'system', content: 'A' }] }).contents).toEqual([{ role: 'user', parts: [{ text: ' ' }] }]);
  });

  it('tool results of one turn share one user turn, each named after the call it answers; legacy function messages too', () => {
    const request = convert({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }, { id: 'b', type: 'function', function: { name: 'g', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'a', content: 'ra' },
        { role: 'tool', tool_call_id: 'b', content: [{ type: 'text', text: 'r' }, { type: 'text', text: 'b' }] },
        { role: 'assistant', function_call: { name: 'h', arguments: '{}' } },
        { role: 'function', name: 'h', content: 'rh' },
      ],
    });
    expect(request.contents).toEqual([
      { role: 'user', parts: [{ text: 'q' }] },
      { role: 'model', parts: [{ functionCall: { name: 'f', args: { x: 1 } } }, { functionCall: { name: 'g', args: {} } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'f', response: { content: 'ra' } } }, { functionResponse: { name: 'g', response: { content: 'rb' } } }] },
      { role: 'model', parts: [{ functionCall: { name: 'h', args: {} } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'h', response: { content: 'rh' } } }] },
    ]);
  });

  it.each([
    [{ messages: [null] }, 'messages[0]'],
    [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'user', content: [{ type: 'video', video: 'x' }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }, 'messages[0].content[0].image_url.url'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,notbase64' } }] }] }, 'messages[0].content[0].image_url.url'],
    [{ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, 'messages[0].content[0]'],
    [{ messages: [{ role: 'assistant', tool_calls: [{ id: 'a', function: { name: 'f', arguments: '[1]' } }] }] }, 'messages[0].tool_calls[0].function.arguments'],
    [{ messages: [{ role: 'tool', tool_call_id: 'nobody', content: 'x' }] }, 'messages[0].tool_call_id'],
    [{ messages: [], tools: [{ type: 'retrieval' }] }, 'tools[0]'],
    [{ messages: [], tool_choice: 'sometimes' }, 'tool_choice'],
    [{ messages: [], response_format: { type: 'xml' } }, 'response_format'],
    [{ messages: [], reasoning_effort: 'extreme' }, 'reasoning_effort'],
  ])('%j is a 400 naming %s', (body, param) => {
    expect(badRequest(() => convert(body)).param).toBe(param);
  });

  it('generation settings map to generationConfig; n, logprobs, JSON schema, thinking', () => {
    const request = toGenerateContentRequest(
      {
        messages: [{ role: 'user', content: 'q' }],
        temperature: 0,
        top_p: 0.5,
        max_completion_tokens: 10,
        max_tokens: 99,
        stop: ['a', 'b'],
        n: 2,
        seed: 1,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        logprobs: true,
        top_logprobs: 3,
        reasoning_effort: 'low',
        response_format: { type: 'json_schema', json_schema: { name: 'r', strict: true, schema: { type: 'object', properties: { b: { type: 'string' }, a: { type: 'integer' } }, required: ['b', 'a'], additionalProperties: false } } },
        user: 'u-1',
        parallel_tool_calls: false,
      },
      { topK: 40, safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }] },
    );
    expect(request.generationConfig).toEqual({
      temperature: 0,
      topP: 0.5,
      topK: 40,
      maxOutputTokens: 10,
      stopSequences: ['a', 'b'],
      candidateCount: 2,
      seed: 1,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      responseLogprobs: true,
      logprobs: 3,
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { b: { type: 'string' }, a: { type: 'integer' } }, required: ['b', 'a'], propertyOrdering: ['b', 'a'] },
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
    });
    expect(request.safetySettings).toEqual([{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }]);
    expect(convert({ messages: [], response_format: { type: 'json_object' }, reasoning_effort: 'none', top_k: 3 }).generationConfig).toEqual({
      topK: 3,
      responseMimeType: 'application/json',
      thinkingConfig: { thinkingBudget: 0 },
    });
  });

  it('tool_choice and Google\'s own tools', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } } }, { googleSearch: {} }];
    expect(convert({ messages: [], tools, tool_choice: 'none' })).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } }] }, { googleSearch: {} }],
      toolConfig: { functionCallingConfig: { mode: 'NONE' } },
    });
    expect(convert({ messages: [], tools, tool_choice: 'required' }).toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(convert({ messages: [], functions: [{ name: 'g' }], function_call: { name: 'g' } })).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'g' }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['g'] } },
    });
  });
});

describe('JSON Schema → Google schema', () => {
  const schema = (value: unknown, propertyOrdering = false) => toGoogleSchema(value, { propertyOrdering, param: 'p' });

  it('inlines $refs, turns null alternatives into nullable, oneOf into anyOf, const into enum; drops what Google refuses', () => {
    expect(
      schema({
        $schema: 'x',
        title: 'T',
        type: 'object',
        definitions: { Pet: { type: 'object', properties: { name: { type: 'string', minLength: 1 } }, required: ['name', 'ghost'] } },
        properties: {
          pet: { allOf: [{ $ref: '#/definitions/Pet' }], description: 'the pet' },
          tags: { type: ['array', 'null'], items: { type: 'string', examples: ['x'] } },
          kind: { const: 'cat' },
          either: { oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] },
          free: { type: 'object', properties: {}, additionalProperties: true },
        },
        additionalProperties: false,
        strict: true,
      }),
    ).toEqual({
      title: 'T',
      type: 'object',
      properties: {
        pet: { type: 'object', description: 'the pet', properties: { name: { type: 'string', minLength: 1 } }, required: ['name'] },
        tags: { type: 'array', items: { type: 'string' }, nullable: true },
        kind: { enum: ['cat'] },
        either: { anyOf: [{ type: 'string' }, { type: 'integer' }], nullable: true },
        free: { type: 'object' },
      },
    });
  });

  it('orders response properties as written', () => {
    expect(schema({ type: 'object', properties: { z: { type: 'object', properties: { y: {}, x: {} } }, a: {} } }, true)).toEqual({
      type: 'object',
      properties: { z: { type: 'object', properties: { y: {}, x: {} }, propertyOrdering: ['y', 'x'] }, a: {} },
      propertyOrdering: ['z', 'a'],
    });
  });

  it.each([
    [{ $defs: { N: { type: 'object', properties: { next: { $ref: '#/$defs/N' } } } }, $ref: '#/$defs/N' }, /refers to itself|nested deeper/],
    [{ $ref: '#/$defs/Missing' }, /not one of its \$defs/],
    [{ type: 'array', items: [{ type: 'string' }] }, /tuple/],
    [{ allOf: [{ type: 'string' }, { minLength: 1 }] }, /allOf/],
    ['string', /must be a JSON Schema object/],
  ])('%j cannot be expressed: a 400', (value, message) => {
    expect(badRequest(() => schema(value)).message).toMatch(message);
  });
});

describe('generateContent answer → chat.completion', () => {
  const answer = (body: unknown, request: Record<string, unknown> = {}) => toChatCompletion(Buffer.from(JSON.stringify(body)), call(request));

  it('candidates become choices: text, thoughts as reasoning_content, function calls as tool_calls, finish reasons mapped', () => {
    const completion = answer({
      candidates: [
        { index: 0, content: { parts: [{ text: 'thinking', thought: true }, { text: 'Hi' }, { text: ' there' }] }, finishReason: 'MAX_TOKENS' },
        { index: 1, content: { parts: [{ functionCall: { name: 'f', args: { a: 1 } } }] }, finishReason: 'STOP' },
      ],
      modelVersion: 'gemini-2.5-flash-002',
      responseId: 'abc',
      createTime: '2026-01-02T03:04:05.123Z',
    });
    expect(completion).toMatchObject({
      id: 'chatcmpl-abc',
      object: 'chat.completion',
      created: Math.floor(Date.parse('2026-01-02T03:04:05.123Z') / 1000),
      model: 'gemini-2.5-flash-002',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Hi there', reasoning_content: 'thinking' }, finish_reason: 'length' },
        { index: 1, message: { role: 'assistant', content: null, tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'tool_calls' },
      ],
    });
    expect(completion).not.toHaveProperty('usage');
  });

  it.each(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII'])('%s is content_filter', (reason) => {
    expect(answer({ candidates: [{ finishReason: reason }] })).toMatchObject({ choices: [{ message: { content: null }, finish_reason: 'content_filter' }] });
  });

  it('usage: thinking counts as output unless candidatesTokenCount already includes it; cached tokens reported', () => {
    expect(usageOf({ promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 20, totalTokenCount: 35, cachedContentTokenCount: 4 })).toEqual({
      prompt_tokens: 10,
      completion_tokens: 25,
      total_tokens: 35,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 20 },
    });
    expect(usageOf({ promptTokenCount: 10, candidatesTokenCount: 25, thoughtsTokenCount: 20, totalTokenCount: 35 })).toMatchObject({ completion_tokens: 25, total_tokens: 35 });
    expect(usageOf({ promptTokenCount: 3 })).toEqual({ prompt_tokens: 3, completion_tokens: 0, total_tokens: 3 });
  });

  it.each([
    ['not JSON', '<html>', UpstreamProtocolError],
    ['an array', '[]', UpstreamProtocolError],
    ['an OpenAI answer', '{"choices": []}', UpstreamProtocolError],
    ['candidates not a list', '{"candidates": {}}', UpstreamProtocolError],
    ['Google\'s error object', '{"error": {"message": "boom"}}', UpstreamErrorEvent],
  ])('%s is refused', (_label, text, kind) => {
    expect(() => toChatCompletion(Buffer.from(text), call())).toThrow(kind);
  });
});

describe('streamGenerateContent (SSE) → chunks', () => {
  const event = (body: unknown): string => `data: ${JSON.stringify(body)}\r\n\r\n`;
  const text = (piece: string, extra: Record<string, unknown> = {}) => ({ candidates: [{ index: 0, content: { role: 'model', parts: [{ text: piece }] }, ...extra }], modelVersion: 'm-1', responseId: 'r' });

  function run(wire: string, splitEvery = 0): { chunks: Array<Record<string, unknown>>; error: unknown } {
    const translator = new GenerateContentStream(call({}, true));
    const bytes = Buffer.from(wire);
    const chunks: Array<Record<string, unknown>> = [];
    try {
      const step = splitEvery > 0 ? splitEvery : bytes.length;
      for (let at = 0; at < bytes.length; at += step) chunks.push(...translator.push(bytes.subarray(at, at + step)));
      chunks.push(...translator.end());
    } catch (error) {
      return { chunks, error };
    }
    return { chunks, error: null };
  }

  it('the same chunks whether the bytes come whole or one at a time (CRLF and multi-byte characters split)', () => {
    const wire = event(text('Grüße, ')) + event(text('世界', { finishReason: 'STOP' })) + event({ usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 3, totalTokenCount: 5 }, modelVersion: 'm-1' });
    const whole = run(wire);
    expect(whole.error).toBeNull();
    expect(run(wire, 1).chunks).toEqual(whole.chunks);
    expect(whole.chunks.map((chunk) => chunk.choices)).toEqual([
      [{ index: 0, delta: { role: 'assistant', content: 'Grüße, ' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: { content: '世界' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
      [],
    ]);
    expect(whole.chunks[3].usage).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
    expect(whole.chunks.every((chunk) => chunk.id === 'chatcmpl-r' && chunk.model === 'm-1' && chunk.object === 'chat.completion.chunk')).toBe(true);
  });

  it('a finish reason repeated on every event is sent once, at the end; several candidates each get theirs', () => {
    const two = (index: number, piece: string) => ({ index, content: { parts: [{ text: piece }] }, finishReason: 'STOP' });
    const { chunks } = run(event({ candidates: [two(0, 'a'), two(1, 'b')] }) + event({ candidates: [two(0, 'c'), { index: 1, finishReason: 'MAX_TOKENS' }] }));
    expect(chunks.flatMap((chunk) => chunk.choices as unknown[]).filter((choice) => (choice as { finish_reason: unknown }).finish_reason !== null)).toEqual([
      { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
      { index: 1, delta: {}, logprobs: null, finish_reason: 'length' },
    ]);
  });

  it('a stream that ends without a finish reason was cut short: a protocol error', () => {
    expect(run(event(text('partial'))).error).toBeInstanceOf(UpstreamProtocolError);
    expect(run('').error).toBeInstanceOf(UpstreamProtocolError);
  });

  it('an unreadable event carries the chunks of the good events before it; Google\'s error event is an UpstreamErrorEvent', () => {
    const { error } = run(event(text('good')) + 'data: {"candidates": [\r\n\r\n');
    expect(error).toBeInstanceOf(UpstreamProtocolError);
    expect((error as UpstreamProtocolError).chunksBefore).toHaveLength(1);
    const failed = run(event(text('good')) + event({ error: { code: 500, message: 'internal', status: 'INTERNAL' } })).error;
    expect(failed).toBeInstanceOf(UpstreamErrorEvent);
    expect((failed as Error).message).toBe('internal');
  });

  it('an event that never ends is refused instead of buffered', () => {
    const translator = new GenerateContentStream(call({}, true));
    const piece = Buffer.alloc(1024 * 1024, 'a');
    translator.push(Buffer.from('data: '));
    expect(() => {
      for (let i = 0; i < 17; i++) translator.push(piece);
    }).toThrow(/never ended/);
  });
});

describe("Google's errors", () => {
  it('reads the message and status (object or array form); an invalid API key is the deployment\'s credential refused', () => {
    const body = JSON.stringify({ error: { code: 429, message: 'Quota exceeded.', status: 'RESOURCE_EXHAUSTED' } });
    expect(readGoogleError({ status: 429, headers: {}, body })).toEqual({ status: undefined, message: 'RESOURCE_EXHAUSTED: Quota exceeded.' });
    expect(readGoogleError({ status: 429, headers: {}, body: `[${body}]` })).toEqual({ status: undefined, message: 'RESOURCE_EXHAUSTED: Quota exceeded.' });
    const invalidKey = JSON.stringify({ error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] } });
    expect(readGoogleError({ status: 400, headers: {}, body: invalidKey })).toEqual({ status: 401, message: 'INVALID_ARGUMENT: API key not valid.' });
    expect(readGoogleError({ status: 502, headers: {}, body: '<html>bad gateway</html>' })).toEqual({});
  });
});
