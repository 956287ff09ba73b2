import { UpstreamErrorEvent, UpstreamProtocolError, type ProviderCall } from '../provider';
import { translateAnswer, translateStream } from './ollama-answer';
import { chatBody, generatePrompt } from './ollama-request';

const call = (over: Partial<ProviderCall> = {}): ProviderCall => ({ endpoint: 'chat', stream: true, body: {}, upstreamModel: 'llama3.2', callId: 'call-1', ...over });
const line = (value: unknown): string => `${JSON.stringify(value)}\n`;

describe('Ollama translation', () => {
  it("builds LiteLLM's generate prompt, tool calls rendered as JSON under the assistant", () => {
    const { prompt, images } = generatePrompt([
      { role: 'user', content: [{ type: 'text', text: 'Look: ' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,QUJD' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
    ]);
    expect(images).toEqual(['QUJD']);
    expect(prompt).toBe(
      '### User:\nLook: \n\n### Assistant:\nTool Calls: [\n  {\n    "id": "c1",\n    "type": "function",\n    "function": {\n      "name": "f",\n      "arguments": {\n        "a": 1\n      }\n    }\n  }\n]\n\n### User:\ndone\n\n',
    );
  });

  it('maps response_format json_schema to format, reasoning_effort to think, and refuses n > 1', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const body = chatBody({ messages: [], response_format: { type: 'json_schema', json_schema: { name: 'x', schema } }, reasoning_effort: 'low' }, 'qwen3', false, { options: {}, keepAlive: undefined });
    expect(body).toMatchObject({ format: schema, think: true });
    expect(chatBody({ messages: [], reasoning_effort: 'high' }, 'gpt-oss:20b', false, { options: {}, keepAlive: undefined }).think).toBe('high');
    expect(() => chatBody({ messages: [], n: 2 }, 'm', false, { options: {}, keepAlive: undefined })).toThrow('`n` greater than 1');
    expect(() => chatBody({ messages: [{ role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: '{oops' } }] }] }, 'm', false, { options: {}, keepAlive: undefined })).toThrow(
      'tool call arguments must be JSON text',
    );
  });

  it('reads NDJSON lines cut anywhere, ending with the finish and usage chunks', () => {
    const translator = translateStream(call(), 'chat');
    const text =
      line({ model: 'llama3.2', created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: 'Hé' }, done: false }) +
      line({ model: 'llama3.2', message: { role: 'assistant', content: 'llo' }, done: false }) +
      line({ model: 'llama3.2', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 3, eval_count: 2 });
    const bytes = Buffer.from(text);
    const chunks = [];
    // One byte at a time: a split UTF-8 character and split lines must both survive.
    for (let i = 0; i < bytes.length; i++) chunks.push(...translator.push(bytes.subarray(i, i + 1)));
    chunks.push(...translator.end());
    expect(chunks.map((c) => (c.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? '').join('')).toBe('Héllo');
    expect(chunks[0]).toMatchObject({ id: 'chatcmpl-call-1', object: 'chat.completion.chunk', created: 1767225600, choices: [{ delta: { role: 'assistant' } }] });
    expect(chunks[chunks.length - 2]).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
    expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
  });

  it('throws a protocol error for a line that is not JSON or a stream without its done line, and the error event for an error line', () => {
    expect(() => translateStream(call(), 'chat').push(Buffer.from('not json\n'))).toThrow(UpstreamProtocolError);
    const unfinished = translateStream(call(), 'chat');
    unfinished.push(Buffer.from(line({ message: { content: 'a' }, done: false })));
    expect(() => unfinished.end()).toThrow('the stream ended before Ollama said it was done');
    expect(() => translateStream(call(), 'chat').push(Buffer.from(line({ error: 'out of memory' })))).toThrow(UpstreamErrorEvent);
    expect(() => translateStream(call(), 'generate').push(Buffer.from(line({ message: { content: 'a' }, done: false })))).toThrow('no `response` text');
  });

  it('answers: generate text, embeddings as floats or base64', () => {
    const generated = translateAnswer(Buffer.from(JSON.stringify({ model: 'm', response: 'hi', done: true, done_reason: 'length', eval_count: 1 })), call({ stream: false }), 'generate');
    expect(generated).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: 'hi' }, finish_reason: 'length' }], usage: { prompt_tokens: 0, completion_tokens: 1 } });
    const embed = Buffer.from(JSON.stringify({ model: 'e', embeddings: [[0.5, 1]], prompt_eval_count: 2 }));
    expect(translateAnswer(embed, call({ endpoint: 'embeddings', body: {} }), 'chat')).toMatchObject({ data: [{ embedding: [0.5, 1] }], usage: { prompt_tokens: 2 } });
    const base64 = translateAnswer(embed, call({ endpoint: 'embeddings', body: { encoding_format: 'base64' } }), 'chat') as { data: Array<{ embedding: string }> };
    expect([...new Float32Array(Uint8Array.from(Buffer.from(base64.data[0].embedding, 'base64')).buffer)]).toEqual([0.5, 1]);
    expect(() => translateAnswer(Buffer.from('{"embeddings":"no"}'), call({ endpoint: 'embeddings' }), 'chat')).toThrow(UpstreamProtocolError);
  });
});
