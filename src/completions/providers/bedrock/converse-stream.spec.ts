import { corrupted, eventFrame, exceptionFrame } from '../../../../test/support/fakes/bedrock-wire';
import { assembleStream } from '../../stream-assembler';
import { UpstreamErrorEvent, UpstreamProtocolError, type OpenAiChunk, type ProviderCall } from '../provider';
import { chatCompletion } from './converse-answer';
import { ConverseStreamTranslator } from './converse-stream';

const call: ProviderCall = { endpoint: 'chat', stream: true, body: {}, upstreamModel: 'anthropic.claude-3-5-sonnet-20240620-v1:0', callId: 'abc' };

/** Text, then two tool calls at Bedrock content blocks 1 and 3 (block 2 is text again). */
const frames = [
  eventFrame('messageStart', { role: 'assistant' }),
  eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Let me ' } }),
  eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'check.' } }),
  eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
  eventFrame('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu_a', name: 'get_weather' } } }),
  eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } }),
  eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '"Paris"}' } } }),
  eventFrame('contentBlockStop', { contentBlockIndex: 1 }),
  eventFrame('contentBlockDelta', { contentBlockIndex: 2, delta: { reasoningContent: { text: 'hmm' } } }),
  eventFrame('contentBlockStart', { contentBlockIndex: 3, start: { toolUse: { toolUseId: 'tu_b', name: 'get_time' } } }),
  eventFrame('contentBlockDelta', { contentBlockIndex: 3, delta: { toolUse: { input: '{}' } } }),
  eventFrame('contentBlockStop', { contentBlockIndex: 3 }),
  eventFrame('messageStop', { stopReason: 'tool_use' }),
  eventFrame('metadata', { usage: { inputTokens: 20, outputTokens: 9, totalTokens: 35, cacheReadInputTokens: 6 }, metrics: { latencyMs: 5 } }),
];

/** The chunks, without `created` (a second may tick between two translations). */
function translate(pieces: Buffer[]): OpenAiChunk[] {
  const translator = new ConverseStreamTranslator(call);
  const out: OpenAiChunk[] = [];
  for (const piece of pieces) out.push(...translator.push(piece));
  out.push(...translator.end());
  return out.map(({ created, ...chunk }) => {
    expect(typeof created).toBe('number');
    return chunk;
  });
}

describe(ConverseStreamTranslator.name, () => {
  it('turns a ConverseStream answer into OpenAI chunks: text, tool calls numbered 0 and 1, finish reason, then the usage chunk', () => {
    const chunks = translate(frames);
    const { completion } = assembleStream(chunks.map((chunk) => JSON.stringify(chunk)));
    expect(completion.id).toBe('chatcmpl-abc');
    expect(completion.model).toBe(call.upstreamModel);
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Let me check.',
          reasoning_content: 'hmm',
          tool_calls: [
            { id: 'tu_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'tu_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 26, completion_tokens: 9, total_tokens: 35 });
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 26, prompt_tokens_details: { cached_tokens: 6 } });
    expect(chunks.some((chunk) => JSON.stringify(chunk).includes('"reasoning_content":"hmm"'))).toBe(true);
  });

  it('gives the same chunks however TCP cuts the stream: at every byte, and all at once', () => {
    const whole = translate(frames);
    const bytes = Buffer.concat(frames);
    expect(translate([bytes])).toEqual(whole);
    for (const size of [1, 2, 3, 5, 13, 64]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
      expect(translate(pieces)).toEqual(whole);
    }
  });

  it('an exception message is the provider error event, with its type and message', () => {
    const translator = new ConverseStreamTranslator(call);
    translator.push(frames[0]);
    expect(() => translator.push(exceptionFrame('modelStreamErrorException', 'The model failed mid-answer.'))).toThrow(
      new UpstreamErrorEvent('modelStreamErrorException: The model failed mid-answer.'),
    );
  });

  it.each([
    ['a message whose CRC does not match', [frames[0], corrupted(frames[1])], 'an event-stream message failed its checksum or could not be decoded'],
    ['an unknown event type', [frames[0], eventFrame('somethingNew', { x: 1 })], 'an unknown event "somethingNew"'],
    ['a length no message can have', [Buffer.from([0, 0, 0, 3, 0, 0, 0, 0])], 'an event-stream message declares 3 bytes, which no message can have'],
    ['a toolUse delta before its block started', [frames[0], frames[5]], 'a toolUse delta for a content block that never started'],
  ])('%s is a protocol error', (_label, pieces, message) => {
    const translator = new ConverseStreamTranslator(call);
    expect(() => pieces.forEach((piece) => translator.push(piece))).toThrow(new UpstreamProtocolError(message));
  });

  it('an end before messageStop and metadata, or inside a message, is a protocol error', () => {
    const early = new ConverseStreamTranslator(call);
    frames.slice(0, 13).forEach((frame) => early.push(frame));
    expect(() => early.end()).toThrow(new UpstreamProtocolError('the stream ended before messageStop and metadata'));
    const cut = new ConverseStreamTranslator(call);
    cut.push(frames[0]);
    cut.push(frames[1].subarray(0, 20));
    expect(() => cut.end()).toThrow(new UpstreamProtocolError('the stream ended inside an event-stream message'));
  });
});

describe('chatCompletion (a Converse answer → chat.completion)', () => {
  const answer = (body: unknown) => chatCompletion(Buffer.from(JSON.stringify(body)), { ...call, stream: false });

  it('maps text, tool calls, the stop reason and usage with cache tokens', () => {
    const out = answer({
      output: { message: { role: 'assistant', content: [{ text: 'Sure.' }, { toolUse: { toolUseId: 'tu_1', name: 'get_weather', input: { city: 'Paris' } } }] } },
      stopReason: 'tool_use',
      usage: { inputTokens: 10, outputTokens: 4, totalTokens: 16, cacheWriteInputTokens: 2 },
      metrics: { latencyMs: 1 },
    });
    expect(out).toMatchObject({
      id: 'chatcmpl-abc',
      object: 'chat.completion',
      model: call.upstreamModel,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Sure.', tool_calls: [{ id: 'tu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16, cache_creation_input_tokens: 2, cache_read_input_tokens: 0 },
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['guardrail_intervened', 'content_filter'],
    ['content_filtered', 'content_filter'],
  ])('stopReason %s → finish_reason %s', (stopReason, finish) => {
    const out = answer({ output: { message: { role: 'assistant', content: [{ text: 'x' }] } }, stopReason, usage: { inputTokens: 1, outputTokens: 1 } });
    expect((out.choices as Array<{ finish_reason: string }>)[0].finish_reason).toBe(finish);
  });

  it.each([
    ['not JSON', '<html>proxy error</html>'],
    ['an OpenAI answer', JSON.stringify({ choices: [{ message: { content: 'hi' } }] })],
    ['no usage', JSON.stringify({ output: { message: { content: [] } }, stopReason: 'end_turn' })],
  ])('an answer that is %s is a protocol error', (_label, text) => {
    expect(() => chatCompletion(Buffer.from(text), call)).toThrow(UpstreamProtocolError);
  });
});
