import { sseEvent } from '../../../../test/support/fakes/fake-anthropic';
import { assembleStream } from '../../stream-assembler';
import { UpstreamErrorEvent, UpstreamProtocolError, type OpenAiChunk, type ProviderCall } from '../provider';
import { chatCompletion } from './messages-answer';
import { MessagesStreamTranslator } from './messages-stream';

const call: ProviderCall = { endpoint: 'chat', stream: true, body: {}, upstreamModel: 'claude-sonnet-4-5', callId: 'abc' };
const start = sseEvent('message_start', {
  message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, usage: { input_tokens: 20, cache_read_input_tokens: 6, output_tokens: 1 } },
});
const delta = (index: number, value: Record<string, unknown>): string => sseEvent('content_block_delta', { index, delta: value });

/** Thinking, text, then two tool calls at Anthropic blocks 2 and 4 (block 3 is text again), as Anthropic streams them. */
const events = [
  start,
  sseEvent('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
  sseEvent('ping', {}),
  delta(0, { type: 'thinking_delta', thinking: 'Hmm.' }),
  delta(0, { type: 'signature_delta', signature: 'sig' }),
  sseEvent('content_block_stop', { index: 0 }),
  sseEvent('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
  delta(1, { type: 'text_delta', text: 'Let me ' }),
  delta(1, { type: 'text_delta', text: 'check.' }),
  sseEvent('content_block_stop', { index: 1 }),
  sseEvent('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: {} } }),
  delta(2, { type: 'input_json_delta', partial_json: '' }),
  delta(2, { type: 'input_json_delta', partial_json: '{"city":' }),
  delta(2, { type: 'input_json_delta', partial_json: '"Paris"}' }),
  sseEvent('content_block_stop', { index: 2 }),
  sseEvent('content_block_start', { index: 3, content_block: { type: 'text', text: '' } }),
  sseEvent('content_block_stop', { index: 3 }),
  sseEvent('content_block_start', { index: 4, content_block: { type: 'tool_use', id: 'toolu_b', name: 'now', input: {} } }),
  delta(4, { type: 'input_json_delta', partial_json: '{}' }),
  sseEvent('content_block_stop', { index: 4 }),
  sseEvent('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } }),
  sseEvent('message_stop', {}),
];

/** The chunks, without `created` (a second may tick between two translations). */
function translate(pieces: Array<string | Buffer>): OpenAiChunk[] {
  const translator = new MessagesStreamTranslator(call);
  const out: OpenAiChunk[] = [];
  for (const piece of pieces) out.push(...translator.push(Buffer.from(piece)));
  out.push(...translator.end());
  return out.map(({ created, ...chunk }) => {
    expect(typeof created).toBe('number');
    return chunk;
  });
}

/** What push() threw. */
function thrown(pieces: string[]): UpstreamProtocolError | UpstreamErrorEvent {
  const translator = new MessagesStreamTranslator(call);
  try {
    for (const piece of pieces) translator.push(Buffer.from(piece));
    translator.end();
  } catch (error) {
    return error as UpstreamProtocolError;
  }
  throw new Error('nothing was thrown');
}

describe(MessagesStreamTranslator.name, () => {
  it('turns a Messages stream into OpenAI chunks: reasoning, text, tool calls numbered 0 and 1, the finish reason, then the usage chunk', () => {
    const chunks = translate(events);
    const { completion } = assembleStream(chunks.map((chunk) => JSON.stringify(chunk)));
    expect(completion).toMatchObject({ id: 'msg_1', model: 'claude-sonnet-4-5-20250929' });
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Let me check.',
          reasoning_content: 'Hmm.',
          tool_calls: [
            { id: 'toolu_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_b', type: 'function', function: { name: 'now', arguments: '{}' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ]);
    expect(chunks.some((chunk) => JSON.stringify(chunk).includes('"reasoning_content":"Hmm."'))).toBe(true);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 26, completion_tokens: 9, total_tokens: 35, prompt_tokens_details: { cached_tokens: 6 }, cache_read_input_tokens: 6, cache_creation_input_tokens: 0 });
  });

  it('gives the same chunks however TCP cuts the stream: at every byte, and all at once', () => {
    const whole = translate(events);
    const bytes = Buffer.from(events.join(''));
    expect(translate([bytes])).toEqual(whole);
    for (const size of [1, 2, 7, 64]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
      expect(translate(pieces)).toEqual(whole);
    }
  });

  it('counts message_delta reports replace the running ones (Anthropic may report the input again there)', () => {
    const chunks = translate([start, sseEvent('message_delta', { delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 4, input_tokens: 25 } }), sseEvent('message_stop', {})]);
    expect(chunks[1].choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }]);
    expect(chunks[2].usage).toMatchObject({ prompt_tokens: 31, completion_tokens: 4 });
  });

  it('an error event is the provider\'s error event, with the good chunks before it', () => {
    const error = thrown([start, delta(0, { type: 'text_delta', text: 'Hi' }) + sseEvent('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })]);
    expect(error).toBeInstanceOf(UpstreamErrorEvent);
    expect(error.message).toBe('overloaded_error: Overloaded');
    expect(error.chunksBefore).toHaveLength(1);
  });

  it.each([
    ['an unknown event', [start, sseEvent('content_block_surprise', {})], 'an unknown event "content_block_surprise"'],
    ['data that is not JSON', [start, 'event: content_block_delta\ndata: {"type": "conte\n\n'], 'a stream event is not a JSON object'],
    ['an end before message_stop', [start, delta(0, { type: 'text_delta', text: 'Hi' })], 'the stream ended before message_stop'],
    ['an event before message_start', [delta(0, { type: 'text_delta', text: 'Hi' })], 'the event "content_block_delta" came before message_start'],
    ['a tool delta for a text block', [start, delta(0, { type: 'input_json_delta', partial_json: '{}' })], 'an input_json_delta for a block that is not a tool_use'],
    ['an OpenAI chunk instead', ['data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[]}\n\n'], 'the event (unnamed) came before message_start'],
  ])('%s is a protocol error', (_label, pieces, message) => {
    const error = thrown(pieces);
    expect(error).toBeInstanceOf(UpstreamProtocolError);
    expect(error.message).toBe(message);
  });
});

describe(chatCompletion.name, () => {
  const answer = (message: Record<string, unknown>): Record<string, unknown> => chatCompletion(Buffer.from(JSON.stringify(message)), { ...call, stream: false });
  const base = { id: 'msg_2', type: 'message', role: 'assistant', model: 'claude-haiku-4-5-20251001', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 } };

  it('text, tool calls and thinking as OpenAI\'s message; the id, the model and the usage kept', () => {
    const thinking = { type: 'thinking', thinking: 'Think.', signature: 'sig' };
    const completion = answer({
      ...base,
      content: [thinking, { type: 'text', text: 'Sure.' }, { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } }, { type: 'web_search_tool_result', tool_use_id: 'x', content: [] }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 100 },
    });
    expect(completion).toMatchObject({ id: 'msg_2', object: 'chat.completion', model: 'claude-haiku-4-5-20251001' });
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: 'Sure.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }], reasoning_content: 'Think.', thinking_blocks: [thinking] },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 110, completion_tokens: 5, total_tokens: 115, prompt_tokens_details: { cached_tokens: 0 }, cache_read_input_tokens: 0, cache_creation_input_tokens: 100 });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
  ])('stop_reason %s → finish_reason %s', (stopReason, finishReason) => {
    expect((answer({ ...base, content: [{ type: 'text', text: 'x' }], stop_reason: stopReason }).choices as Array<{ finish_reason: string }>)[0].finish_reason).toBe(finishReason);
  });

  it.each([
    ['not JSON', '{"id": "msg_', 'the answer is not a JSON object'],
    ['an OpenAI answer', JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] }), 'it is not a Messages answer (no type "message" with content)'],
    ['no usage', JSON.stringify({ ...base, usage: undefined, content: [] }), 'the usage is missing'],
  ])('an answer that is %s is a protocol error', (_label, body, message) => {
    expect(() => chatCompletion(Buffer.from(body), call)).toThrow(new UpstreamProtocolError(message));
  });
});
